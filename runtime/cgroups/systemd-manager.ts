import { existsSync } from "node:fs";
import { run, runOk } from "../net/exec.ts";

/**
 * The few calls minik makes to systemd (as PID 1) for a delegated cgroup: start a transient scope
 * around a process, attach a process to a sub-cgroup of a running scope, read a unit's state.
 * Implemented with `busctl` and `systemctl`, which ship with systemd itself, so minik needs no
 * D-Bus library; `testing/fake-systemd.ts` plays the same part on a fake cgroupfs.
 */
export interface ScopeSpec {
  /** e.g. `minik-1a2b3c4d.scope` */
  name: string;
  /** e.g. `minik.slice` */
  slice: string;
  description: string;
  /** The process the scope is created around (a scope cannot be empty). */
  pid: number;
}

export interface UnitState {
  /** systemd's ActiveState: "active", "inactive" (also for units systemd does not know), "failed", … */
  activeState: string;
  /** The unit's cgroup path, e.g. /minik.slice/minik-1a2b3c4d.scope; undefined when it has none. */
  controlGroup?: string;
}

export interface SystemdManager {
  /** StartTransientUnit: a delegated scope in `slice` holding `pid`. Resolves once the job is queued. */
  startScope(spec: ScopeSpec): Promise<void>;
  /** AttachProcessesToUnit: moves `pid` into `subcgroup` (which must exist) of the running `unit`. */
  attachProcess(unit: string, subcgroup: string, pid: number): Promise<void>;
  unitState(unit: string): Promise<UnitState>;
}

/** sd_booted(3): systemd is PID 1 of this machine (or of this container). */
export function isSystemdBooted(): boolean {
  return existsSync("/run/systemd/system");
}

const DEST = ["org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"];
const UINT64_MAX = "18446744073709551615";

export function createBusctlSystemd(): SystemdManager {
  return {
    async startScope(spec) {
      const properties = [
        ["PIDs", "au", "1", String(spec.pid)],
        ["Delegate", "b", "true"],
        ["Slice", "s", spec.slice],
        ["Description", "s", spec.description],
        // A scope that failed (say, a stop timeout) is forgotten, so its name can be used again.
        ["CollectMode", "s", "inactive-or-failed"],
        // All pods share this scope: the pod cgroups carry the pids limits, not systemd's default.
        ["TasksMax", "t", UINT64_MAX],
      ];
      await busctl(
        "StartTransientUnit",
        ["ssa(sv)a(sa(sv))", spec.name, "fail", String(properties.length), ...properties.flat(), "0"],
        `asking systemd for the delegated scope ${spec.name}`,
      );
    },

    async attachProcess(unit, subcgroup, pid) {
      await busctl(
        "AttachProcessesToUnit",
        ["ssau", unit, subcgroup, "1", String(pid)],
        `joining the scope ${unit}`,
      );
    },

    async unitState(unit) {
      const out = await runOk(["systemctl", "show", "-p", "ActiveState", "-p", "ControlGroup", "--", unit]);
      return parseUnitState(out);
    },
  };
}

/** A Manager method; the error names the method and carries busctl's message (the full argv is long). */
async function busctl(method: string, args: string[], what: string): Promise<void> {
  const r = await run(["busctl", "call", ...DEST, method, ...args]);
  if (r.code !== 0) {
    throw new Error(`${what}: busctl call ${method} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  }
}

/** `systemctl show -p ActiveState -p ControlGroup` output → UnitState. */
export function parseUnitState(text: string): UnitState {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1]?.trim() || undefined;
  return { activeState: value("ActiveState") ?? "inactive", controlGroup: value("ControlGroup") };
}
