import { readFileSync } from "node:fs";

/**
 * What the host's cgroup setup looks like: v2 (unified only), v1 (legacy only) or hybrid (v1 plus
 * a cgroup2 mount, which crun 1.8 refuses), where each hierarchy is mounted, and the cgroup minik
 * itself runs in. Every cgroup minik creates lives below that own cgroup, never at a root.
 * Parsing is pure (`parseCgroupHost`) so it is tested on recorded /proc contents.
 */
export type CgroupMode = "v1" | "v2" | "hybrid";

/**
 * v2: the leaf minik moves itself into below its base (cgroup v2 lets only process-free cgroups
 * hand controllers to their children); the base is the cgroup above it.
 */
export const SUPERVISOR_LEAF = "minik-supervisor";

export interface Hierarchy {
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory */
  mount: string;
  /** v1 controllers ("cpu", "cpuacct", "name=systemd", …); empty for the unified hierarchy. */
  controllers: string[];
  /** minik's own cgroup in this hierarchy, from /proc/self/cgroup. */
  own: string;
}

export interface CgroupHost {
  mode: CgroupMode;
  /** The hierarchies crun manages: the v1 ones (hybrid and v1) or the unified one (v2). */
  hierarchies: Hierarchy[];
  /** The hybrid host's cgroup2 mount that crun must not see. */
  unifiedMount?: string;
  /** The path (same in every hierarchy) under which minik creates cgroups: below own everywhere. */
  base: string;
}

interface MountEntry {
  mountPoint: string;
  fstype: string;
  superOptions: string[];
}

function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const f = pre.split(" ");
    const [fstype, , superOpts] = post.split(" ");
    out.push({ mountPoint: f[4]!, fstype: fstype!, superOptions: (superOpts ?? "").split(",") });
  }
  return out;
}

const V1_KNOWN = new Set([
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "devices",
  "freezer",
  "blkio",
  "pids",
  "net_cls",
  "net_prio",
  "perf_event",
  "hugetlb",
  "rdma",
  "misc",
]);

export function parseCgroupHost(mountinfo: string, selfCgroup: string): CgroupHost {
  const own = new Map<string, string>();
  for (const line of selfCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[2] === "" ? [""] : m[2]!.split(",")) own.set(c, m[3]!);
  }
  const mounts = parseMountinfo(mountinfo);
  const v1: Hierarchy[] = [];
  let unifiedMount: string | undefined;
  for (const m of mounts) {
    if (m.fstype === "cgroup2") unifiedMount ??= m.mountPoint;
    else if (m.fstype === "cgroup") {
      const controllers = m.superOptions.filter((o) => V1_KNOWN.has(o) || o.startsWith("name="));
      if (controllers.length === 0) continue;
      v1.push({ mount: m.mountPoint, controllers, own: own.get(controllers[0]!) ?? "/" });
    }
  }
  if (v1.length === 0) {
    if (!unifiedMount) throw new Error("no cgroup filesystem is mounted (looked in /proc/self/mountinfo)");
    const path = own.get("") ?? "/";
    // A restarted minik finds itself in the leaf an earlier one moved it to (see cgroup-tree.ts).
    const base = path.endsWith(`/${SUPERVISOR_LEAF}`)
      ? path.slice(0, -SUPERVISOR_LEAF.length - 1) || "/"
      : path;
    return { mode: "v2", hierarchies: [{ mount: unifiedMount, controllers: [], own: path }], base };
  }
  return { mode: unifiedMount ? "hybrid" : "v1", hierarchies: v1, unifiedMount, base: commonBase(v1) };
}

/**
 * crun takes ONE cgroupsPath for all v1 hierarchies. The deepest own path is below every other
 * one when they nest (typically "/" in most and one job cgroup in memory); otherwise no single
 * path is below all of them and we say so.
 */
function commonBase(hs: Hierarchy[]): string {
  const deepest = hs.map((h) => h.own).reduce((a, b) => (b.length > a.length ? b : a), "/");
  for (const h of hs) {
    const p = h.own === "/" ? "/" : `${h.own}/`;
    if (!`${deepest}/`.startsWith(p)) {
      throw new Error(
        `minik runs in cgroups that do not nest (${h.controllers.join(",")}:${h.own} vs ${deepest}); ` +
          "start it from one cgroup path in every hierarchy",
      );
    }
  }
  return deepest;
}

export function detectCgroupHost(): CgroupHost {
  return parseCgroupHost(
    readFileSync("/proc/self/mountinfo", "utf8"),
    readFileSync("/proc/self/cgroup", "utf8"),
  );
}

/** The directory of `path` in the hierarchy holding `controller` (undefined when not mounted). */
export function cgroupDir(host: CgroupHost, controller: string, path: string): string | undefined {
  const h =
    host.mode === "v2"
      ? host.hierarchies[0]
      : host.hierarchies.find((x) => x.controllers.includes(controller));
  return h ? joinPath(h.mount, path) : undefined;
}

export function joinPath(mount: string, path: string): string {
  return `${mount}${path.startsWith("/") ? "" : "/"}${path}`.replace(/\/+$/, "");
}
