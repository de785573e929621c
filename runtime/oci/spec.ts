import type {
  ContainerResources,
  HostNamespaces,
  SecurityOptions,
} from "../../core/seams/container-runtime.ts";
import { ALL_CAPS, effectiveCaps } from "./capabilities.ts";

/**
 * OCI runtime spec (config.json) generation: a pure function from what the runtime resolved
 * (rootfs, sandbox namespaces, argv/env, volume bind sources, limits) to the JSON crun reads.
 * Everything host-dependent (paths, the caller's RLIMIT_NOFILE, swap accounting) is an input,
 * so tests check the output exactly.
 */

export interface SpecInput {
  /** Merged overlay directory. */
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  hostname: string;
  /** Paths of the pod sandbox's persistent namespaces; absent = a new one for this container. */
  namespaces: { network?: string; ipc?: string; uts?: string };
  /**
   * Namespaces shared with the host (hostNetwork, which brings the host's UTS, hostPID, hostIPC):
   * left out of the spec, so crun keeps its own, which are the host's.
   */
  host?: HostNamespaces;
  cgroupsPath: string;
  resources: ContainerResources;
  security: SecurityOptions;
  /** Bind mounts: volumes, the pod's shared /dev/shm, termination log. */
  mounts: { destination: string; source: string; readOnly: boolean }[];
  /** The caller's hard RLIMIT_NOFILE: crun cannot raise it without CAP_SYS_RESOURCE. */
  nofileHardLimit: number;
  /** v1 hosts without memory.memsw.*: setting swap would make crun fail. */
  swapAccounting: boolean;
  annotations?: Record<string, string>;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<"bounding" | "effective" | "permitted" | "inheritable" | "ambient", string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    cgroupsPath: string;
    namespaces: { type: string; path?: string }[];
    resources: Record<string, unknown>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
  };
}

/** What runc and Docker hide from containers. */
export const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/sys/devices/virtual/powercap",
  "/sys/firmware",
];
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const CFS_PERIOD = 100_000;
const MAX_NOFILE = 1_048_576;

/** millicores → cpu.shares the way the kubelet does it (minimum 2, also for no request). */
export function cpuShares(requestMillis: number | undefined): number {
  if (!requestMillis) return 2;
  return Math.max(2, Math.floor((requestMillis * 1024) / 1000));
}

function baseMounts(privileged: boolean): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/sys",
      type: "sysfs",
      source: "sysfs",
      options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"],
    },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"],
    },
  ];
}

function resources(
  r: ContainerResources,
  swapAccounting: boolean,
  privileged: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    devices: [{ allow: privileged, access: "rwm" }],
    cpu: {
      shares: cpuShares(r.cpuRequestMillis),
      ...(r.cpuLimitMillis
        ? { quota: Math.round((r.cpuLimitMillis * CFS_PERIOD) / 1000), period: CFS_PERIOD }
        : {}),
    },
  };
  if (r.memoryLimitBytes) {
    out.memory = { limit: r.memoryLimitBytes, ...(swapAccounting ? { swap: r.memoryLimitBytes } : {}) };
  }
  if (r.pidsLimit) out.pids = { limit: r.pidsLimit };
  return out;
}

export function buildOciSpec(input: SpecInput): OciSpec {
  const sec = input.security;
  const privileged = sec.privileged === true;
  const caps = privileged ? [...ALL_CAPS] : effectiveCaps(sec.capabilitiesAdd, sec.capabilitiesDrop);
  const nofile = Math.min(MAX_NOFILE, input.nofileHardLimit);
  const ns = input.namespaces;
  const host = input.host ?? {};
  const join = (type: string, path: string | undefined) => (path ? { type, path } : { type });
  const namespaces: { type: string; path?: string }[] = [
    ...(host.pid ? [] : [{ type: "pid" }]),
    ...(host.network ? [] : [join("network", ns.network)]),
    ...(host.ipc ? [] : [join("ipc", ns.ipc)]),
    ...(host.network ? [] : [join("uts", ns.uts)]),
    { type: "mount" },
    { type: "cgroup" },
  ];
  const user = {
    uid: sec.runAsUser ?? input.user.uid,
    gid: sec.runAsGroup ?? input.user.gid,
    ...(sec.supplementalGroups?.length || input.user.additionalGids?.length
      ? { additionalGids: [...(input.user.additionalGids ?? []), ...(sec.supplementalGroups ?? [])] }
      : {}),
  };
  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user,
      args: input.args,
      env: input.env,
      cwd: input.cwd || "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: nofile, soft: nofile }],
      noNewPrivileges: sec.allowPrivilegeEscalation === false,
    },
    root: { path: input.rootfs, readonly: sec.readOnlyRootFilesystem === true },
    // a hostname can only be set in a UTS namespace of the container's own
    ...(host.network ? {} : { hostname: input.hostname }),
    mounts: [
      ...baseMounts(privileged),
      ...input.mounts.map((m) => ({
        destination: m.destination,
        type: "bind",
        source: m.source,
        options: ["rbind", "rprivate", m.readOnly ? "ro" : "rw"],
      })),
    ],
    ...(input.annotations ? { annotations: input.annotations } : {}),
    linux: {
      cgroupsPath: input.cgroupsPath,
      namespaces,
      resources: resources(input.resources, input.swapAccounting, privileged),
      ...(privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
    },
  };
  return spec;
}
