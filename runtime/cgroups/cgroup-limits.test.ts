import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { parseCgroupHost } from "./cgroup-host.ts";
import { readCgroupLimits } from "./cgroup-limits.ts";

/** Limits read back from interface files, on directory trees shaped like cgroupfs. */
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(dir: string, files: Record<string, string>) {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(`${dir}/${name}`, text);
}

test("cgroup v2: cpu.max 30000 100000 is 30 % of one CPU; memory.max and pids.max as numbers", () => {
  root = mkdtempSync("/tmp/minik-cglimits-");
  const path = "/minik/pod-a/c1";
  write(`${root}${path}`, { "cpu.max": "30000 100000\n", "memory.max": "100663296\n", "pids.max": "max\n" });
  const host = parseCgroupHost(`30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw`, "0::/\n");
  const limits = readCgroupLimits(host, path);
  expect(limits.cpu).toEqual({ quotaMicros: 30000, periodMicros: 100000, percentOfOneCpu: 30 });
  expect(limits.memoryMaxBytes).toBe(100663296);
  expect(limits.pidsMax).toBeUndefined();
  expect(limits.files["cpu.max"]).toBe(`${root}${path}/cpu.max`);
});

test("cgroup v2 without limits: cpu.max 'max 100000' and memory.max 'max' are no limit", () => {
  root = mkdtempSync("/tmp/minik-cglimits-");
  write(`${root}/c`, { "cpu.max": "max 100000\n", "memory.max": "max\n", "pids.max": "512\n" });
  const limits = readCgroupLimits(
    parseCgroupHost(`30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw`, "0::/\n"),
    "/c",
  );
  expect(limits.cpu).toEqual({ periodMicros: 100000 });
  expect(limits.memoryMaxBytes).toBeUndefined();
  expect(limits.pidsMax).toBe(512);
});

test("cgroup v1: the article's cpu.cfs_quota_us = 30000 of 100000, and the unlimited memory sentinel", () => {
  root = mkdtempSync("/tmp/minik-cglimits-");
  const mountinfo = [
    `40 30 0:35 / ${root}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct`,
    `41 30 0:36 / ${root}/memory rw - cgroup cgroup rw,memory`,
    `42 30 0:37 / ${root}/pids rw - cgroup cgroup rw,pids`,
  ].join("\n");
  const host = parseCgroupHost(mountinfo, "4:cpu,cpuacct:/\n3:memory:/\n2:pids:/\n");
  write(`${root}/cpu,cpuacct/p`, { "cpu.cfs_quota_us": "30000\n", "cpu.cfs_period_us": "100000\n" });
  write(`${root}/memory/p`, { "memory.limit_in_bytes": "9223372036854771712\n" });
  write(`${root}/pids/p`, { "pids.max": "64\n" });
  const limits = readCgroupLimits(host, "/p");
  expect(limits.mode).toBe("v1");
  expect(limits.cpu?.percentOfOneCpu).toBe(30);
  expect(limits.memoryMaxBytes).toBeUndefined();
  expect(limits.pidsMax).toBe(64);
});
