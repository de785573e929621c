import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { detectCgroupHost, parseCgroupHost } from "./cgroup-host.ts";
import { containerCgroupPath, podCgroupPath } from "./cgroup-tree.ts";

const v1Mounts = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
  "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
];
const unified = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
const selfV1 = "9:name=systemd:/\n4:memory:/process_api/job1\n2:cpuacct:/\n1:cpu:/\n0::/\n";

describe("cgroup mode detection", () => {
  test("hybrid: v1 hierarchies plus a cgroup2 mount; base below the deepest own cgroup", () => {
    const h = parseCgroupHost([...v1Mounts, unified].join("\n"), selfV1);
    expect(h.mode).toBe("hybrid");
    expect(h.unifiedMount).toBe("/sys/fs/cgroup/unified");
    expect(h.hierarchies.map((x) => x.mount)).toEqual([
      "/sys/fs/cgroup/cpu",
      "/sys/fs/cgroup/cpuacct",
      "/sys/fs/cgroup/memory",
      "/sys/fs/cgroup/systemd",
    ]);
    expect(h.hierarchies.find((x) => x.controllers.includes("name=systemd"))?.own).toBe("/");
    expect(h.base).toBe("/process_api/job1");
    expect(podCgroupPath(h, "u1")).toBe("/process_api/job1/minik/u1");
    expect(containerCgroupPath(h, "u1", "c1")).toBe("/process_api/job1/minik/u1/c1");
  });

  test("v1 only", () => {
    const h = parseCgroupHost(v1Mounts.join("\n"), selfV1);
    expect(h.mode).toBe("v1");
    expect(h.unifiedMount).toBeUndefined();
  });

  test("v2: one unified hierarchy, own path from the 0:: line", () => {
    const h = parseCgroupHost(
      "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate",
      "0::/system.slice/minik.service\n",
    );
    expect(h.mode).toBe("v2");
    expect(h.hierarchies).toEqual([
      { mount: "/sys/fs/cgroup", controllers: [], own: "/system.slice/minik.service" },
    ]);
    expect(podCgroupPath(h, "u1")).toBe("/system.slice/minik.service/minik/u1");
  });

  test("at the root: no double slash", () => {
    const h = parseCgroupHost(v1Mounts.join("\n"), "4:memory:/\n1:cpu:/\n");
    expect(podCgroupPath(h, "u1")).toBe("/minik/u1");
  });

  test("own cgroups that do not nest are refused with a clear message", () => {
    expect(() => parseCgroupHost(v1Mounts.join("\n"), "4:memory:/a\n1:cpu:/b\n")).toThrow(/do not nest/);
  });

  test.skipIf(!existsSync("/proc/self/cgroup"))("this host", () => {
    const h = detectCgroupHost();
    const hasUnified = readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup2 ");
    const hasV1 = readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup cgroup ");
    expect(h.mode).toBe(hasV1 ? (hasUnified ? "hybrid" : "v1") : "v2");
  });
});
