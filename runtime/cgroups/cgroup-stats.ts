import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { closeFd, eventfd } from "../supervise/libc.ts";
import { type CgroupHost, cgroupDir } from "./cgroup-host.ts";

/** Resource usage and OOM kills of one cgroup, from the v1 or v2 interface files. */
export interface CgroupUsage {
  cpuUsageNanoSeconds: number;
  memoryUsageBytes: number;
  /** usage minus inactive file cache, as the kubelet computes it. */
  memoryWorkingSetBytes: number;
  memoryLimitBytes?: number;
}

function readText(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function keyed(text: string | undefined, key: string): number | undefined {
  if (!text) return undefined;
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

const UNLIMITED = 2 ** 62;

export function readCgroupUsage(host: CgroupHost, path: string): CgroupUsage | undefined {
  const mem = cgroupDir(host, "memory", path);
  if (host.mode === "v2") {
    const current = readText(`${mem}/memory.current`);
    if (current === undefined) return undefined;
    const usage = Number(current);
    const inactive = keyed(readText(`${mem}/memory.stat`), "inactive_file") ?? 0;
    const max = readText(`${mem}/memory.max`)?.trim();
    return {
      cpuUsageNanoSeconds: (keyed(readText(`${mem}/cpu.stat`), "usage_usec") ?? 0) * 1000,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: Math.max(0, usage - inactive),
      memoryLimitBytes: max && max !== "max" ? Number(max) : undefined,
    };
  }
  const usageText = readText(`${mem}/memory.usage_in_bytes`);
  if (usageText === undefined) return undefined;
  const usage = Number(usageText);
  const inactive = keyed(readText(`${mem}/memory.stat`), "total_inactive_file") ?? 0;
  const limit = Number(readText(`${mem}/memory.limit_in_bytes`) ?? Number.NaN);
  return {
    cpuUsageNanoSeconds: Number(readText(`${cgroupDir(host, "cpuacct", path)}/cpuacct.usage`) ?? 0),
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - inactive),
    memoryLimitBytes: Number.isFinite(limit) && limit < UNLIMITED ? limit : undefined,
  };
}

/** The cgroup's OOM-kill counter (survives until the cgroup is removed: read it before `crun delete`). */
export function readOomKills(host: CgroupHost, path: string): number {
  const mem = cgroupDir(host, "memory", path);
  const file = host.mode === "v2" ? "memory.events" : "memory.oom_control";
  return keyed(readText(`${mem}/${file}`), "oom_kill") ?? 0;
}

/**
 * v1 only: an eventfd that counts OOM events of the cgroup (memory.oom_control via
 * cgroup.event_control). On v2 the exit path reads memory.events instead, so this returns undefined.
 */
export function openOomEventfd(host: CgroupHost, path: string): number | undefined {
  if (host.mode === "v2") return undefined;
  const mem = cgroupDir(host, "memory", path);
  if (!mem) return undefined;
  const efd = eventfd();
  let ofd: number | undefined;
  try {
    ofd = openSync(`${mem}/memory.oom_control`, "r");
    writeFileSync(`${mem}/cgroup.event_control`, `${efd} ${ofd}`);
    return efd;
  } catch {
    // No cgroup (already gone): the exit path still reads the oom_kill counter if it can.
    closeFd(efd);
    return undefined;
  } finally {
    if (ofd !== undefined) closeSync(ofd);
  }
}
