import { readFile, writeFile } from "node:fs/promises";
import { type CgroupHost, joinPath } from "./cgroup-host.ts";

/**
 * On a v1 or hybrid host crun puts a container's init into its cgroups by writing its pid into
 * `cgroup.procs` of every hierarchy. The kernel serialises such migrations with one global lock
 * (cgroup_threadgroup_rwsem) whose writer first waits for an RCU grace period, unless another
 * migration ran within the last one: 6–15 ms on an idle 2-core machine, more under load, spent
 * inside `crun run` on every pod start that follows a quiet moment (a second write right after the
 * first takes ~0.05 ms).
 *
 * `warm()` starts such a wait early and changes nothing: it writes minik's own pid into the cgroup
 * it already is in (read fresh from /proc/self/cgroup), off the event loop. Called when a pod's
 * sandbox is begun, the grace period runs while the sandbox, volumes and bundle are made, and
 * crun's own write finds it (nearly) over. At most one write is under way at a time; failures are
 * ignored (crun's write is the one that counts). A v2 host needs none: crun starts the init in its
 * cgroup (clone3 CLONE_INTO_CGROUP), with no migration.
 */
export interface WarmupDeps {
  readSelfCgroup: () => Promise<string>;
  write: (file: string, text: string) => Promise<void>;
  pid: number;
}

const realDeps: WarmupDeps = {
  readSelfCgroup: () => readFile("/proc/self/cgroup", "utf8"),
  write: (file, text) => writeFile(file, text),
  pid: process.pid,
};

export function migrationWarmup(host: CgroupHost, deps: WarmupDeps = realDeps): () => void {
  const hierarchy = host.mode === "v2" ? undefined : host.hierarchies[0];
  if (!hierarchy) return () => {};
  const controller = hierarchy.controllers[0]!;
  let busy = false;
  const once = async () => {
    const own = ownPath(await deps.readSelfCgroup(), controller);
    if (own !== undefined)
      await deps.write(`${joinPath(hierarchy.mount, own)}/cgroup.procs`, String(deps.pid));
  };
  return () => {
    if (busy) return;
    busy = true;
    once()
      .catch(() => {})
      .finally(() => {
        busy = false;
      });
  };
}

/** This process's cgroup in the v1 hierarchy holding `controller` (a /proc/self/cgroup line). */
export function ownPath(selfCgroup: string, controller: string): string | undefined {
  for (const line of selfCgroup.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m?.[1]?.split(",").includes(controller)) return m[2];
  }
  return undefined;
}
