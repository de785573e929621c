import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type CgroupHost, parseCgroupHost } from "../cgroup-host.ts";
import type { SystemdManager, UnitState } from "../systemd-manager.ts";

/**
 * systemd for tests, on a temp directory shaped like a cgroup2 mount. A started scope is a
 * directory below its slice with every controller available, holding the process; "this
 * process" is wherever `self` says, which `host()` reports as /proc/self/cgroup would. Like
 * systemd 252 where tests rely on it: a new scope's process moves when the start job runs, a
 * moment after the call returns; attaching needs a running unit and an existing sub-cgroup
 * (ENOENT otherwise) that hands no controllers to children (EBUSY); `failWith` plays a bus that
 * cannot be reached.
 */
export interface FakeSystemd extends SystemdManager {
  /** Where this process is, e.g. /system.slice/minik.service. */
  self: string;
  /** Every call, e.g. `startScope minik-1a2b3c4d.scope in minik.slice pid 4242 Delegate=yes`. */
  readonly calls: string[];
  failWith?: string;
  /** The host as detected now. */
  host(): CgroupHost;
  /** A scope that is already running (an earlier minik's pods keep it alive). */
  addRunningScope(name: string, controlGroup: string): void;
}

export const ALL_CONTROLLERS = "cpuset cpu io memory hugetlb pids";

/** A directory with the files cgroupfs fills in for a new cgroup. */
export function fakeCgroup(dir: string, controllers: string, procs = ""): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/cgroup.controllers`, `${controllers}\n`);
  writeFileSync(`${dir}/cgroup.subtree_control`, "\n");
  writeFileSync(`${dir}/cgroup.procs`, procs);
}

export function createFakeSystemd(root: string, self: string): FakeSystemd {
  const units = new Map<string, UnitState>();
  const mountinfo = `30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw,nsdelegate`;
  const fail = (what: string) => {
    fake.calls.push(what);
    if (fake.failWith) throw new Error(fake.failWith);
  };
  const fake: FakeSystemd = {
    self,
    calls: [],
    host: () => parseCgroupHost(mountinfo, `0::${fake.self}\n`),

    addRunningScope(name, controlGroup) {
      fakeCgroup(`${root}${controlGroup}`, ALL_CONTROLLERS);
      units.set(name, { activeState: "active", controlGroup });
    },

    async startScope(spec) {
      fail(`startScope ${spec.name} in ${spec.slice} pid ${spec.pid} Delegate=yes`);
      if (units.get(spec.name)?.activeState === "active")
        throw new Error(`Unit ${spec.name} already exists.`);
      const controlGroup = `/${spec.slice}/${spec.name}`;
      fakeCgroup(`${root}${controlGroup}`, ALL_CONTROLLERS, `${spec.pid}\n`);
      units.set(spec.name, { activeState: "active", controlGroup });
      setTimeout(() => {
        fake.self = controlGroup;
      }, 30);
    },

    async attachProcess(unit, subcgroup, pid) {
      fail(`attachProcess ${unit} ${subcgroup} pid ${pid}`);
      const u = units.get(unit);
      if (u?.activeState !== "active" || !u.controlGroup) throw new Error(`Unit ${unit} is not active.`);
      const dir = `${root}${u.controlGroup}${subcgroup}`;
      if (!existsSync(dir))
        throw new Error("Failed to attach processes to control group: No such file or directory");
      const subtree = `${dir}/cgroup.subtree_control`;
      if (existsSync(subtree) && readFileSync(subtree, "utf8").trim())
        throw new Error("Device or resource busy");
      writeFileSync(`${dir}/cgroup.procs`, `${pid}\n`);
      fake.self = `${u.controlGroup}${subcgroup}`;
    },

    async unitState(unit) {
      fail(`unitState ${unit}`);
      return units.get(unit) ?? { activeState: "inactive" };
    },
  };
  return fake;
}
