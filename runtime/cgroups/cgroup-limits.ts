import { readFileSync } from "node:fs";
import type { CgroupLimits } from "../../core/seams/inspection.ts";
import { type CgroupHost, cgroupDir } from "./cgroup-host.ts";

/** Above this a v1 memory limit means "none" (the kernel writes PAGE_COUNTER_MAX × page size). */
const V1_UNLIMITED = 2 ** 62;

function read(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A number, or undefined for `max`, `-1` and anything unreadable. */
function limit(text: string | undefined): number | undefined {
  if (text === undefined || text === "max" || text === "-1") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The limits the kernel enforces on one cgroup, read from its interface files — v2's `cpu.max`,
 * `memory.max`, `pids.max`, or v1's `cpu.cfs_quota_us`/`cpu.cfs_period_us`,
 * `memory.limit_in_bytes` and `pids.max` — with the file each figure came from.
 */
export function readCgroupLimits(host: CgroupHost, path: string): CgroupLimits {
  const files: Record<string, string> = {};
  const take = (controller: string, name: string) => {
    const dir = cgroupDir(host, controller, path);
    const value = read(dir && `${dir}/${name}`);
    if (value !== undefined && dir) files[name] = `${dir}/${name}`;
    return value;
  };
  let cpu: CgroupLimits["cpu"];
  let memoryMaxBytes: number | undefined;
  if (host.mode === "v2") {
    const [quota, period] = (take("cpu", "cpu.max") ?? "").split(" ");
    if (period) cpu = withPercent(limit(quota), Number(period));
    memoryMaxBytes = limit(take("memory", "memory.max"));
  } else {
    const period = limit(take("cpu", "cpu.cfs_period_us"));
    if (period) cpu = withPercent(limit(take("cpu", "cpu.cfs_quota_us")), period);
    const mem = limit(take("memory", "memory.limit_in_bytes"));
    memoryMaxBytes = mem !== undefined && mem < V1_UNLIMITED ? mem : undefined;
  }
  const pidsMax = limit(take("pids", "pids.max"));
  return {
    mode: host.mode,
    path,
    ...(cpu ? { cpu } : {}),
    ...(memoryMaxBytes !== undefined ? { memoryMaxBytes } : {}),
    ...(pidsMax !== undefined ? { pidsMax } : {}),
    files,
  };
}

/** The article's arithmetic: a quota of 30000 µs per 100000 µs period is 30 % of one CPU. */
function withPercent(
  quotaMicros: number | undefined,
  periodMicros: number,
): NonNullable<CgroupLimits["cpu"]> {
  if (quotaMicros === undefined) return { periodMicros };
  return { quotaMicros, periodMicros, percentOfOneCpu: Math.round((quotaMicros / periodMicros) * 1000) / 10 };
}
