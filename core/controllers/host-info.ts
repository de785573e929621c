import { readdir, readFile, statfs } from "node:fs/promises";
import { arch, cpus, hostname, networkInterfaces, release } from "node:os";

/** The machine as the node controller publishes it: identity, capacity and current pressure. */
export interface HostInfo {
  hostname: string;
  internalIP?: string;
  kernelVersion: string;
  osImage: string;
  operatingSystem: string;
  /** Kubernetes spelling: amd64, arm64. */
  architecture: string;
  containerRuntimeVersion: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
  cpuCores: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  diskTotalBytes: number;
  diskAvailableBytes: number;
  pidMax: number;
  pidsInUse: number;
  /** Pods this node takes (the kubelet's --max-pods). */
  maxPods: number;
  /** The node API's port (status.daemonEndpoints.kubeletEndpoint.Port); default 10250. */
  kubeletPort?: number;
}

/** The kubelet's default --max-pods. */
export const DEFAULT_MAX_PODS = 110;

export type HostInfoSource = () => Promise<HostInfo>;

/**
 * Reads this host through node:os and /proc (no child processes): /proc/meminfo for memory,
 * statfs of the data dir for disk, /proc/sys/kernel/pid_max and /proc for processes.
 */
export function createHostInfo({
  dataDir,
  containerRuntimeVersion = "crun://unknown",
  maxPods = DEFAULT_MAX_PODS,
  internalIP,
  hostname: name,
  kubeletPort,
}: {
  dataDir: string;
  containerRuntimeVersion?: string;
  maxPods?: number;
  /** The address other nodes reach this one by (`--node-ip`); default: the first non-loopback IPv4. */
  internalIP?: string;
  /** The node's name when it is not the host name (`--node-name`). */
  hostname?: string;
  /** Where a joined node serves its node API (`minik agent --node-port`). */
  kubeletPort?: number;
}): HostInfoSource {
  return async () => {
    const [meminfo, osRelease, machineID, bootID, productUUID, pidMax, disk, procEntries] = await Promise.all(
      [
        readText("/proc/meminfo"),
        readText("/etc/os-release"),
        readText("/etc/machine-id"),
        readText("/proc/sys/kernel/random/boot_id"),
        readText("/sys/class/dmi/id/product_uuid"),
        readText("/proc/sys/kernel/pid_max"),
        statfs(dataDir).catch(() => statfs("/")),
        readdir("/proc").catch(() => [] as string[]),
      ],
    );
    const mem = parseMeminfo(meminfo);
    return {
      hostname: name ?? hostname().toLowerCase(),
      internalIP: internalIP ?? firstIPv4(),
      kubeletPort,
      kernelVersion: release(),
      osImage: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? "Linux",
      operatingSystem: "linux",
      architecture:
        ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[arch()] ??
        arch(),
      containerRuntimeVersion,
      machineID: machineID.trim(),
      systemUUID: productUUID.trim() || machineID.trim(),
      bootID: bootID.trim(),
      cpuCores: Math.max(1, cpus().length),
      memoryTotalBytes: mem.MemTotal ?? 0,
      memoryAvailableBytes: mem.MemAvailable ?? mem.MemFree ?? 0,
      diskTotalBytes: disk.blocks * disk.bsize,
      diskAvailableBytes: disk.bavail * disk.bsize,
      pidMax: Number(pidMax.trim()) || 32768,
      pidsInUse: procEntries.filter((e) => /^\d+$/.test(e)).length,
      maxPods,
    };
  };
}

async function readText(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

/** `/proc/meminfo` values in bytes (the file says kB, meaning KiB). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\w+):\s+(\d+)(?:\s+kB)?$/gm))
    out[m[1]!] = Number(m[2]) * (m[0].endsWith("kB") ? 1024 : 1);
  return out;
}

function firstIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}
