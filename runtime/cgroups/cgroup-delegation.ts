import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type CgroupHost, detectCgroupHost, joinPath, SUPERVISOR_LEAF } from "./cgroup-host.ts";
import { delegateV2Controllers } from "./cgroup-tree.ts";
import { createBusctlSystemd, isSystemdBooted, type SystemdManager } from "./systemd-manager.ts";

/**
 * Getting a cgroup v2 subtree minik may split into pods, before the first pod cgroup is made.
 *
 * Under systemd, the cgroup minik is started in is systemd's: a service without `Delegate=yes`, or
 * a login session's scope, gets only the controllers systemd happens to enable (often just memory
 * and pids), so a pod's cpu.max cannot exist. So minik asks systemd for a transient scope of its
 * own, `minik-<hash of data dir>.scope` in `minik.slice`, with `Delegate=yes` and itself as the
 * process, then moves into the scope's `minik-supervisor` leaf and enables the controllers for the
 * pods beside it — systemd's "i-like-continents" option in docs/CGROUP_DELEGATION.md, and what
 * container engines do. It does so even when its own unit is delegated: pods that outlive a
 * restart below the unit's cgroup make that cgroup an inner node, and systemd (before 254's
 * DelegateSubgroup=) then cannot start the unit again (status 219/CGROUP, seen on Debian 12).
 * A later minik joins the running scope's leaf; the scope ends when its last process does.
 *
 * Rejected: writing `+cpu` into the ancestors' cgroup.subtree_control ourselves. Root may, but
 * those cgroups belong to systemd, which rewrites their controllers when it re-realizes a unit
 * (daemon-reload, set-property), and writing there breaks its single-writer rule.
 *
 * Without systemd (a container, another init) minik keeps using the cgroup it was started in.
 */

/** Controllers pods need (cpu.max, memory.max, pids.max); io and cpuset are used when present. */
export const REQUIRED_CONTROLLERS = ["cpu", "memory", "pids"];
export const MINIK_SLICE = "minik.slice";

export interface DelegationDeps {
  /** The host as detected at start: this process's own cgroup. */
  host: CgroupHost;
  /** systemd as PID 1; undefined when it is not. */
  systemd?: SystemdManager;
  /** Absolute data dir: one scope per data dir, so two minik instances never share pods' parents. */
  dataDir: string;
  pid: number;
  /** Detects the host again (where this process is now). */
  detect: () => CgroupHost;
  log: (message: string) => void;
  /** How long systemd may take to move this process into a new scope. Default 10 s. */
  moveTimeoutMs?: number;
}

export function scopeName(dataDir: string): string {
  return `minik-${createHash("sha256").update(dataDir).digest("hex").slice(0, 8)}.scope`;
}

/** The real host: this process, systemd if it is PID 1. */
export function prepareCgroupHost(dataDir: string, log: (message: string) => void): Promise<CgroupHost> {
  return delegateCgroup({
    host: detectCgroupHost(),
    systemd: isSystemdBooted() ? createBusctlSystemd() : undefined,
    dataDir: resolve(dataDir),
    pid: process.pid,
    detect: detectCgroupHost,
    log,
  });
}

/** Returns the host as it is once minik sits in a delegated cgroup (v1 and hybrid: unchanged). */
export async function delegateCgroup(deps: DelegationDeps): Promise<CgroupHost> {
  const { host, systemd } = deps;
  if (host.mode !== "v2") return host;
  if (!systemd) {
    delegateV2Controllers(host);
    const missing = missingControllers(host);
    if (missing.length) deps.log(`warning: ${notDelegated(missing, host.base)}`);
    return deps.detect();
  }
  let scoped: CgroupHost;
  try {
    scoped = await joinScope(deps, systemd);
  } catch (e) {
    const reason = (e as Error).message;
    const missing = missingControllers(host);
    if (missing.length) throw new Error(notDelegatedBySystemd(missing, host.base, reason));
    // A delegated unit (Delegate=yes) still works, but cannot be restarted while pods run.
    deps.log(`warning: ${reason}; pods run below ${host.base}, the unit's delegated cgroup`);
    delegateV2Controllers(host);
    return deps.detect();
  }
  delegateV2Controllers(scoped);
  const missing = missingControllers(scoped);
  if (missing.length) throw new Error(notDelegated(missing, scoped.base));
  return deps.detect();
}

async function joinScope(deps: DelegationDeps, systemd: SystemdManager): Promise<CgroupHost> {
  const name = scopeName(deps.dataDir);
  const { mount, own } = deps.host.hierarchies[0]!;
  const unit = await systemd.unitState(name);
  if (unit.activeState === "active" && unit.controlGroup) {
    // Pods of an earlier minik keep the scope running. Its cgroup hands controllers to them, so
    // (no internal processes) this process may only join in the leaf, which systemd 252 does not
    // create itself.
    const leaf = `${unit.controlGroup}/${SUPERVISOR_LEAF}`;
    if (own === leaf || own === unit.controlGroup) return deps.host;
    mkdirSync(joinPath(mount, leaf), { recursive: true });
    await systemd.attachProcess(name, `/${SUPERVISOR_LEAF}`, deps.pid);
    return waitUntilIn(deps, name, async () => leaf);
  }
  await systemd.startScope({
    name,
    slice: MINIK_SLICE,
    description: `minik pods (data dir ${deps.dataDir})`,
    pid: deps.pid,
  });
  return waitUntilIn(deps, name, async () => (await systemd.unitState(name)).controlGroup);
}

/** systemd moves the process when it runs the start job, just after the call returns. */
async function waitUntilIn(
  deps: DelegationDeps,
  name: string,
  target: () => Promise<string | undefined>,
): Promise<CgroupHost> {
  const timeout = deps.moveTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    const want = await target();
    const now = deps.detect();
    if (want && now.hierarchies[0]!.own === want) return now;
    if (Date.now() > deadline) {
      throw new Error(
        `systemd did not move minik into ${name} within ${timeout} ms (it is in ${now.hierarchies[0]!.own})`,
      );
    }
    await Bun.sleep(20);
  }
}

/** Required controllers the cgroup `host.base` cannot hand to its children. */
export function missingControllers(host: CgroupHost): string[] {
  let available: string[];
  try {
    const dir = joinPath(host.hierarchies[0]!.mount, host.base);
    available = readFileSync(`${dir}/cgroup.controllers`, "utf8").trim().split(/\s+/);
  } catch {
    return [];
  }
  return REQUIRED_CONTROLLERS.filter((c) => !available.includes(c));
}

const controllerWords = (missing: string[]) =>
  `the ${missing.join(", ")} controller${missing.length > 1 ? "s are" : " is"}`;

function notDelegated(missing: string[], base: string): string {
  return (
    `cgroup v2: ${controllerWords(missing)} not delegated to ${base}, so pods cannot get those ` +
    "limits; start minik in a cgroup whose parent enables them in cgroup.subtree_control"
  );
}

function notDelegatedBySystemd(missing: string[], base: string, reason: string): string {
  return (
    `cgroup v2: ${controllerWords(missing)} not delegated to ${base} and systemd gave minik no scope ` +
    `of its own (${reason}); run minik from the shipped unit scripts/minik.service (Delegate=yes) ` +
    "or under `systemd-run -p Delegate=yes minik up`"
  );
}
