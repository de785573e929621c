import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import type { ContainerResources } from "../container-runtime.ts";
import { type CgroupHost, cgroupDir, joinPath } from "./cgroup-host.ts";

/**
 * minik's cgroup layout: `<own>/minik/<pod-uid>/<container-id>`, the same path in every hierarchy
 * (crun creates the container level from config.json's cgroupsPath with --cgroup-manager=cgroupfs).
 * minik itself creates only pod levels that carry pod-wide limits, and removes the whole pod
 * subtree in every hierarchy — name=systemd included, where crun's cgroups would otherwise pile up.
 */
export function podCgroupPath(host: CgroupHost, podUid: string): string {
  return `${host.base === "/" ? "" : host.base}/minik/${podUid}`;
}

export function containerCgroupPath(host: CgroupHost, podUid: string, containerId: string): string {
  return `${podCgroupPath(host, podUid)}/${containerId}`;
}

/** Whether v1 memory+swap accounting exists (memory.memsw.*); v2 always has memory.swap.max. */
export function hasSwapAccounting(host: CgroupHost): boolean {
  if (host.mode === "v2") return true;
  const dir = cgroupDir(host, "memory", "/");
  return dir !== undefined && existsSync(`${dir}/memory.memsw.limit_in_bytes`);
}

/** Writes pod-wide limits (sum of container limits) at the pod level. */
export function applyPodLimits(host: CgroupHost, podUid: string, r: ContainerResources | undefined): void {
  if (!r) return;
  const path = podCgroupPath(host, podUid);
  const write = (controller: string, file: string, value: string) => {
    const dir = cgroupDir(host, controller, path);
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${file}`, value);
  };
  if (host.mode === "v2") {
    if (r.memoryLimitBytes) write("memory", "memory.max", String(r.memoryLimitBytes));
    if (r.cpuLimitMillis) write("cpu", "cpu.max", `${r.cpuLimitMillis * 100} 100000`);
    return;
  }
  if (r.memoryLimitBytes) write("memory", "memory.limit_in_bytes", String(r.memoryLimitBytes));
  if (r.cpuLimitMillis) {
    write("cpu", "cpu.cfs_period_us", "100000");
    write("cpu", "cpu.cfs_quota_us", String(r.cpuLimitMillis * 100));
  }
}

function rmTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(`${dir}/${e.name}`);
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** Removes `path` and everything below it in every hierarchy (retrying while tasks drain). */
export async function removeCgroup(host: CgroupHost, path: string): Promise<void> {
  const dirs = host.hierarchies.map((h) => joinPath(h.mount, path));
  for (let attempt = 0; ; attempt++) {
    try {
      for (const d of dirs) rmTree(d);
      return;
    } catch (e) {
      if (attempt >= 50) throw new Error(`removing cgroup ${path}: ${(e as Error).message}`);
      await Bun.sleep(20);
    }
  }
}

/** Removes the `<own>/minik` level if no pod is left in it. */
export function removeEmptyMinikRoot(host: CgroupHost): void {
  const path = `${host.base === "/" ? "" : host.base}/minik`;
  for (const h of host.hierarchies) {
    try {
      rmdirSync(joinPath(h.mount, path));
    } catch {}
  }
}
