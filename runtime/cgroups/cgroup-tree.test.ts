import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseCgroupHost } from "./cgroup-host.ts";
import { delegateV2Controllers, preparePodCgroupV2 } from "./cgroup-tree.ts";

/**
 * cgroup v2 delegation, on a directory tree shaped like cgroupfs (this host is hybrid, so the
 * kernel's own v2 files cannot be exercised here): processes leave the cgroup for a leaf before
 * controllers are enabled for its subtree, and the pod levels get them too.
 */
describe("cgroup v2 delegation", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function fakeV2(own: string) {
    root = mkdtempSync("/tmp/minik-cgv2-");
    const dir = `${root}${own}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/cgroup.controllers`, "cpuset cpu io memory hugetlb pids\n");
    writeFileSync(`${dir}/cgroup.subtree_control`, "\n");
    writeFileSync(`${dir}/cgroup.procs`, "4242\n");
    return { dir, host: parseCgroupHost(`30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw`, `0::${own}\n`) };
  }

  test("moves the cgroup's processes to minik-supervisor, then enables the controllers", () => {
    const { dir, host } = fakeV2("/system.slice/minik.service");
    delegateV2Controllers(host);
    expect(readFileSync(`${dir}/minik-supervisor/cgroup.procs`, "utf8")).toBe("4242");
    expect(readFileSync(`${dir}/cgroup.subtree_control`, "utf8")).toBe("+cpuset +cpu +io +memory +pids");
  });

  test("nothing to do when the controllers are already delegated", () => {
    const { dir, host } = fakeV2("/system.slice/minik.service");
    writeFileSync(`${dir}/cgroup.subtree_control`, "cpuset cpu io memory pids\n");
    delegateV2Controllers(host);
    expect(() => readFileSync(`${dir}/minik-supervisor/cgroup.procs`)).toThrow();
  });

  test("a restarted minik inside minik-supervisor keeps the same base", () => {
    root = mkdtempSync("/tmp/minik-cgv2-");
    const host = parseCgroupHost(
      `30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw`,
      "0::/svc/minik-supervisor\n",
    );
    expect(host.base).toBe("/svc");
  });

  test("pod levels are created with their subtree enabled", () => {
    const { dir, host } = fakeV2("/svc");
    // cgroupfs fills these in for new directories; a plain directory tree needs them written.
    for (const d of [`${dir}/minik`, `${dir}/minik/pod-1`]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(`${d}/cgroup.controllers`, "cpu memory pids\n");
      writeFileSync(`${d}/cgroup.subtree_control`, "\n");
    }
    preparePodCgroupV2(host, "pod-1");
    expect(readFileSync(`${dir}/minik/cgroup.subtree_control`, "utf8")).toBe("+cpu +memory +pids");
    expect(readFileSync(`${dir}/minik/pod-1/cgroup.subtree_control`, "utf8")).toBe("+cpu +memory +pids");
  });
});
