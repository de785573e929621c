import { expect, test } from "bun:test";
import type { CgroupHost } from "./cgroup-host.ts";
import { migrationWarmup, ownPath } from "./migration-warmup.ts";

const SELF = "9:name=systemd:/user.slice\n8:pids:/\n4:memory:/process_api/job1\n0::/\n";
const hybrid: CgroupHost = {
  mode: "hybrid",
  hierarchies: [
    { mount: "/sys/fs/cgroup/memory", controllers: ["memory"], own: "/process_api/job1" },
    { mount: "/sys/fs/cgroup/pids", controllers: ["pids"], own: "/" },
  ],
  unifiedMount: "/sys/fs/cgroup/unified",
  base: "/process_api/job1",
};

function recorder(self = SELF) {
  const writes: [string, string][] = [];
  let finish = () => {};
  const deps = {
    readSelfCgroup: async () => self,
    write: (file: string, text: string) => {
      writes.push([file, text]);
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    },
    pid: 4242,
  };
  return { deps, writes, finish: () => finish() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("a warm-up writes minik's own pid into the cgroup it already is in, one write at a time", async () => {
  const r = recorder();
  const warm = migrationWarmup(hybrid, r.deps);
  warm();
  warm(); // a second pod while the first write waits: nothing more
  await settle();
  expect(r.writes).toEqual([["/sys/fs/cgroup/memory/process_api/job1/cgroup.procs", "4242"]]);
  r.finish();
  await settle();
  warm();
  await settle();
  expect(r.writes).toHaveLength(2);
});

test("the cgroup is read afresh: minik moved since its start is written where it is now", async () => {
  const r = recorder(SELF.replace("/process_api/job1", "/process_api/job2"));
  migrationWarmup(hybrid, r.deps)();
  await settle();
  expect(r.writes[0]![0]).toBe("/sys/fs/cgroup/memory/process_api/job2/cgroup.procs");
});

test("a v2 host gets no warm-up, and a failed write is ignored", async () => {
  const r = recorder();
  migrationWarmup({ ...hybrid, mode: "v2" }, r.deps)();
  await settle();
  expect(r.writes).toHaveLength(0);
  let tries = 0;
  const failing = migrationWarmup(hybrid, {
    ...r.deps,
    write: () => {
      tries++;
      return Promise.reject(new Error("EACCES"));
    },
  });
  failing();
  await settle();
  failing(); // not stuck "busy" after the failure
  await settle();
  expect(tries).toBe(2);
});

test("ownPath reads a v1 hierarchy's line, also one with several controllers", () => {
  expect(ownPath(SELF, "memory")).toBe("/process_api/job1");
  expect(ownPath("3:cpu,cpuacct:/a/b\n", "cpuacct")).toBe("/a/b");
  expect(ownPath(SELF, "blkio")).toBeUndefined();
});
