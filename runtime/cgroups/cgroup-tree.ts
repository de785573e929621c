import {
  type Dirent,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import type { ContainerResources } from "../../core/seams/container-runtime.ts";
import { type CgroupHost, cgroupDir, joinPath, SUPERVISOR_LEAF } from "./cgroup-host.ts";

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
    // cgroupfs refuses to create a controller's file (EACCES): say which controller is missing.
    const writeV2 = (controller: string, file: string, value: string) => {
      const dir = cgroupDir(host, controller, path)!;
      mkdirSync(dir, { recursive: true });
      if (!existsSync(`${dir}/${file}`)) {
        throw new Error(
          `cgroup v2: the ${controller} controller is not enabled for ${path} (not delegated to ${host.base}), ` +
            `so the pod's ${controller} limit cannot be set; see the cgroup warning minik logged at start`,
        );
      }
      writeFileSync(`${dir}/${file}`, value);
    };
    if (r.memoryLimitBytes) writeV2("memory", "memory.max", String(r.memoryLimitBytes));
    if (r.cpuLimitMillis) writeV2("cpu", "cpu.max", `${r.cpuLimitMillis * 100} 100000`);
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

/** Whether any process is left in `path` (or below it) in any hierarchy. */
export function cgroupHasProcesses(host: CgroupHost, path: string): boolean {
  const busy = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      if (readFileSync(`${dir}/cgroup.procs`, "utf8").trim()) return true;
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false; // not in this hierarchy (or gone meanwhile)
    }
    return entries.some((e) => e.isDirectory() && busy(`${dir}/${e.name}`));
  };
  return host.hierarchies.some((h) => busy(joinPath(h.mount, path)));
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

const V2_CONTROLLERS = ["cpuset", "cpu", "io", "memory", "pids"];

/**
 * cgroup v2's "no internal processes" rule: controllers can only be delegated to children of a
 * cgroup that holds no processes itself. When minik runs in a non-root cgroup (its systemd
 * scope, see cgroup-delegation.ts, or a container's cgroup), it moves the processes there (itself)
 * into a `minik-supervisor` leaf and enables the controllers for the subtree, as container engines
 * do. Call before spawning anything.
 */
export function delegateV2Controllers(host: CgroupHost): void {
  if (host.mode !== "v2" || host.base === "/") return;
  const dir = joinPath(host.hierarchies[0]!.mount, host.base);
  enableSubtree(dir, () => {
    const procs = readFileSync(`${dir}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
    if (procs.length === 0) return;
    mkdirSync(`${dir}/${SUPERVISOR_LEAF}`, { recursive: true });
    for (const pid of procs) {
      try {
        writeFileSync(`${dir}/${SUPERVISOR_LEAF}/cgroup.procs`, pid);
      } catch {} // gone meanwhile, or a kernel thread
    }
  });
}

/** v2: enables the available controllers below `dir` (each level crun does not create itself). */
export function enableSubtree(dir: string, beforeWrite?: () => void): void {
  let available: string[];
  let enabled: string[];
  try {
    available = readFileSync(`${dir}/cgroup.controllers`, "utf8").trim().split(/\s+/);
    enabled = readFileSync(`${dir}/cgroup.subtree_control`, "utf8").trim().split(/\s+/);
  } catch {
    return;
  }
  const missing = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
  if (missing.length === 0) return;
  beforeWrite?.();
  writeFileSync(`${dir}/cgroup.subtree_control`, missing.map((c) => `+${c}`).join(" "));
}

/** On v2, the levels minik creates above a container: `<base>/minik` and `<base>/minik/<pod>`. */
export function preparePodCgroupV2(host: CgroupHost, podUid: string): void {
  if (host.mode !== "v2") return;
  const mount = host.hierarchies[0]!.mount;
  for (const path of [podCgroupPath(host, podUid).replace(/\/[^/]+$/, ""), podCgroupPath(host, podUid)]) {
    const dir = joinPath(mount, path);
    mkdirSync(dir, { recursive: true });
    enableSubtree(dir);
  }
}
