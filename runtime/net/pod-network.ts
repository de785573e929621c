import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from "../../core/config.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { run, runOk } from "./exec.ts";
import type { HostPortMapping, HostPortTable } from "./host-ports.ts";
import type { Ipam } from "./ipam.ts";
import { addNetnsWithVeth, configurePodInterface } from "./netlink.ts";
import { readSysctl, setInterfaceSysctl } from "./sysctl.ts";

export type { HostPortMapping } from "./host-ports.ts";

/**
 * Pod networking: one Linux bridge (gateway = first address of the pod CIDR), and per pod a
 * network namespace `/run/netns/<prefix><short uid>` holding `eth0`, the peer of a host veth
 * plugged into the bridge with hairpin on. No process per pod: the namespace, veth and the pod's
 * addressing are made by syscalls and rtnetlink from this process (netlink.ts), ≈1–2 ms where two
 * `ip -batch` execs took ≈9 ms in the daemon. The veth peer is created directly inside the
 * namespace, because moving it costs ≈15 ms.
 *
 * The crun runtime calls `setup` from runPodSandbox and joins `netnsPath`, and `teardown` from
 * stopPodSandbox. `reconcile` at start-up removes what pods that no longer exist left behind.
 */
export interface PodNetwork {
  readonly bridge: string;
  /** The bridge's address: pods' default gateway, and where the cluster DNS server listens. */
  readonly gateway: string;
  readonly podCidr: string;
  /** Creates the bridge, its address, the service route and sysctls. Idempotent. */
  ensureBridge(): Promise<void>;
  /** Idempotent: a pod already set up gets its existing address back (hostPorts re-applied). */
  setup(podUid: string, options?: PodNetworkSetupOptions): Promise<PodNetworkStatus>;
  /** Removes the pod's namespace, veth, address and hostPorts. A pod never set up is not an error. */
  teardown(podUid: string): Promise<void>;
  list(): Promise<PodNetworkStatus[]>;
  /**
   * Deletes namespaces, veths, addresses and hostPorts of pods not in `livePodUids`; returns what
   * it removed: pod UIDs, or namespace names where the UID is no longer known.
   */
  reconcile(livePodUids: Iterable<string>): Promise<string[]>;
  /** Removes everything: all pod namespaces and veths, the bridge (and its sysctls), the nft table. */
  cleanupAll(): Promise<void>;
}

export interface PodNetworkSetupOptions {
  hostPorts?: HostPortMapping[];
  /** `namespace/name`, for error messages (hostPort conflicts). */
  podName?: string;
}

export interface PodNetworkStatus {
  podUid: string;
  ip: string;
  netnsPath: string;
}

export interface PodNetworkOptions {
  ipam: Ipam;
  /** Informational; the IPAM's range is what counts. Default 10.88.0.0/16. */
  podCidr?: string;
  /** Routed onto the bridge so ClusterIPs never leave by the default route. Default 10.96.0.0/16. */
  serviceCidr?: string;
  /** Default `minik0`. Tests use their own (`minikt0`). */
  bridge?: string;
  /** Network namespace name prefix; default `minik-`. */
  netnsPrefix?: string;
  /** Host veth name prefix, at most 3 characters; default `vmk`. */
  vethPrefix?: string;
  /** The nft service proxy, which owns hostPort rules. Without it, hostPorts are rejected. */
  hostPortTable?: HostPortTable;
  /**
   * Lets pods reach the host's other networks through masquerade. Off by default (and in tests):
   * it turns on global IPv4 forwarding.
   */
  outboundNat?: boolean;
}

/** Where `ip netns` keeps named network namespaces. */
export const NETNS_DIR = "/run/netns";
/** minik's bridge, its pods' namespace prefix and their host veths' prefix (tests pass their own). */
export const DEFAULT_BRIDGE = "minik0";
export const DEFAULT_NETNS_PREFIX = "minik-";
export const DEFAULT_VETH_PREFIX = "vmk";

export function createPodNetwork(options: PodNetworkOptions): PodNetwork {
  const { ipam } = options;
  const bridge = options.bridge ?? DEFAULT_BRIDGE;
  const netnsPrefix = options.netnsPrefix ?? DEFAULT_NETNS_PREFIX;
  const vethPrefix = options.vethPrefix ?? DEFAULT_VETH_PREFIX;
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  if (options.podCidr && options.podCidr !== ipam.cidr && options.podCidr !== DEFAULT_POD_CIDR) {
    throw new Error(`pod network: podCidr ${options.podCidr} differs from the IPAM range ${ipam.cidr}`);
  }
  if (vethPrefix.length > 3)
    throw new Error(`pod network: vethPrefix "${vethPrefix}" is longer than 3 characters`);
  const names = (podUid: string) => {
    const short = shortId(podUid);
    return { netns: `${netnsPrefix}${short}`, veth: `${vethPrefix}${short}`, short };
  };
  const netnsPath = (podUid: string) => `${NETNS_DIR}/${names(podUid).netns}`;

  let bridgeReady: Promise<void> | undefined;
  /** Global forwarding this process turned on for outbound NAT, turned off again by cleanupAll. */
  let forwardingTurnedOn = false;
  async function ensureBridge(): Promise<void> {
    const cidrBits = `${ipam.gateway}/${ipam.prefixLength}`;
    if (!existsSync(`/sys/class/net/${bridge}`)) {
      // A concurrent creator may win the race; "File exists" is fine.
      const made = await run(["ip", "link", "add", bridge, "type", "bridge"]);
      if (made.code !== 0 && !existsSync(`/sys/class/net/${bridge}`)) {
        throw new Error(`creating bridge ${bridge}: ${made.stderr.trim()}`);
      }
    }
    await runOk(
      ["ip", "-batch", "-"],
      [
        `addr replace ${cidrBits} dev ${bridge}`,
        `link set ${bridge} up`,
        `route replace ${serviceCidr} dev ${bridge}`,
      ].join("\n"),
      `configuring bridge ${bridge}`,
    );
    // Forwarding only for packets entering on the bridge (pod → ClusterIP → pod); route_localnet so
    // NodePorts on 127.0.0.1 can be DNATed to pods (the nft guard chain drops 127/8 from anything but lo).
    setInterfaceSysctl(bridge, "forwarding", "1");
    setInterfaceSysctl(bridge, "route_localnet", "1");
    if (options.outboundNat && readSysctl("net.ipv4.ip_forward") === "0") {
      writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
      forwardingTurnedOn = true;
    }
  }

  async function podIsComplete(netns: string, veth: string, ip: string): Promise<boolean> {
    if (!existsSync(`${NETNS_DIR}/${netns}`) || !existsSync(`/sys/class/net/${veth}`)) return false;
    return (await podAddress(netns)) === ip;
  }

  // Configured once per process; re-done only if the bridge disappeared (someone deleted it).
  let bridgeConfigured = false;
  function ensureBridgeOnce(): Promise<void> {
    if (bridgeConfigured && existsSync(`/sys/class/net/${bridge}`)) return Promise.resolve();
    bridgeReady ??= ensureBridge()
      .then(() => {
        bridgeConfigured = true;
      })
      .finally(() => {
        bridgeReady = undefined;
      });
    return bridgeReady;
  }

  /** `ip netns add` + veth into the bridge with hairpin on, by syscalls and rtnetlink (no exec). */
  async function addPodLinks(netns: string, veth: string): Promise<void> {
    addNetnsWithVeth(`${NETNS_DIR}/${netns}`, veth, bridge);
    writeFileSync(`/sys/class/net/${veth}/brport/hairpin_mode`, "1");
  }

  /** Address, lo and eth0 up, default route: rtnetlink from this process (no `ip -n` exec). */
  function addressPod(netns: string, ip: string): void {
    configurePodInterface(`${NETNS_DIR}/${netns}`, ip, ipam.prefixLength, ipam.gateway);
  }

  async function setupPod(podUid: string, setupOptions: PodNetworkSetupOptions): Promise<PodNetworkStatus> {
    const { netns, veth } = names(podUid);
    const hostPorts = setupOptions.hostPorts ?? [];
    if (hostPorts.length && !options.hostPortTable) {
      throw new Error("hostPorts need the service proxy, which is not running");
    }
    // Conflicts are refused before anything is created: never a half-configured pod.
    options.hostPortTable?.checkHostPorts(podUid, hostPorts, setupOptions.podName);
    await ensureBridgeOnce();
    const hadAddress = ipam.lookup(podUid) !== undefined;
    // A fresh pod's namespace and veth need no address: make them while the IPAM saves its state.
    const fresh = !existsSync(`${NETNS_DIR}/${netns}`) && !existsSync(`/sys/class/net/${veth}`);
    const allocating = ipam.allocate(podUid);
    const links = fresh ? addPodLinks(netns, veth) : undefined;
    let ip: string;
    try {
      ip = await allocating;
    } catch (e) {
      if (links) {
        await links.catch(() => {});
        await removePodLinks([netns], [veth]);
      }
      throw e;
    }
    try {
      if (links) {
        await links;
        addressPod(netns, ip);
      } else if (!(await podIsComplete(netns, veth, ip))) {
        await removePodLinks(
          existsSync(`${NETNS_DIR}/${netns}`) ? [netns] : [],
          existsSync(`/sys/class/net/${veth}`) ? [veth] : [],
        );
        await addPodLinks(netns, veth);
        addressPod(netns, ip);
      }
      if (options.hostPortTable) {
        await options.hostPortTable.setHostPorts(podUid, ip, hostPorts, setupOptions.podName);
      }
    } catch (e) {
      await removePodLinks([netns], [veth]);
      if (!hadAddress) await ipam.release(podUid);
      throw e;
    }
    return { podUid, ip, netnsPath: netnsPath(podUid) };
  }

  return {
    bridge,
    gateway: ipam.gateway,
    podCidr: ipam.cidr,
    ensureBridge: ensureBridgeOnce,

    async setup(podUid, setupOptions = {}) {
      try {
        return await setupPod(podUid, setupOptions);
      } catch (e) {
        // The agent shows a RuntimeError as the pod's reason and message: name the pod and the step.
        if (e instanceof RuntimeError) throw e;
        throw new RuntimeError(
          "CreatePodSandboxError",
          `pod ${setupOptions.podName ?? podUid}: setting up the pod network: ${(e as Error).message}`,
        );
      }
    },

    async teardown(podUid) {
      const { netns, veth } = names(podUid);
      await options.hostPortTable?.removeHostPorts(podUid);
      await removePodLinks(
        existsSync(`${NETNS_DIR}/${netns}`) ? [netns] : [],
        existsSync(`/sys/class/net/${veth}`) ? [veth] : [],
      );
      await ipam.release(podUid);
    },

    async list() {
      return Object.entries(ipam.allocations())
        .filter(([podUid]) => existsSync(netnsPath(podUid)))
        .map(([podUid, ip]) => ({ podUid, ip, netnsPath: netnsPath(podUid) }));
    },

    async reconcile(livePodUids) {
      const live = [...livePodUids];
      const liveShort = new Set(live.map((uid) => shortId(uid)));
      const deadNetns = listNetns(netnsPrefix).filter((n) => !liveShort.has(n.slice(netnsPrefix.length)));
      const deadVeths = listLinks(vethPrefix).filter((v) => !liveShort.has(v.slice(vethPrefix.length)));
      await removePodLinks(deadNetns, deadVeths);
      // Reality wins over the saved allocations: a live pod's address is recorded as held (the
      // state file may be older than the pod), and a pod whose address someone else holds is
      // rebuilt on its next setup.
      for (const uid of live) {
        const { netns, veth } = names(uid);
        if (!existsSync(`${NETNS_DIR}/${netns}`)) continue;
        const actual = await podAddress(netns);
        if (actual && actual !== ipam.lookup(uid) && !(await ipam.claim(uid, actual))) {
          await removePodLinks([netns], [veth]);
        }
      }
      const released = await ipam.reconcile(live);
      await options.hostPortTable?.retainHostPorts(live);
      const releasedNetns = new Set(released.map((uid) => names(uid).netns));
      return [...released, ...deadNetns.filter((n) => !releasedNetns.has(n))];
    },

    async cleanupAll() {
      bridgeConfigured = false;
      await removePodNetworks({ bridge, netnsPrefix, vethPrefix });
      await ipam.reconcile([]);
      await options.hostPortTable?.retainHostPorts([]);
      if (forwardingTurnedOn) writeFileSync("/proc/sys/net/ipv4/ip_forward", "0");
      forwardingTurnedOn = false;
    },
  };
}

/**
 * Removes every pod namespace and veth with these prefixes and the bridge (with its address,
 * routes and sysctls), without needing any saved state: for `minik reset`-style clean-ups.
 */
export async function removePodNetworks(names: {
  bridge: string;
  netnsPrefix: string;
  vethPrefix: string;
}): Promise<void> {
  await removePodLinks(listNetns(names.netnsPrefix), listLinks(names.vethPrefix));
  if (existsSync(`/sys/class/net/${names.bridge}`)) {
    await runOk(["ip", "link", "del", names.bridge], undefined, `removing bridge ${names.bridge}`);
  }
}

async function removePodLinks(netns: string[], veths: string[]): Promise<void> {
  if (!netns.length && !veths.length) return;
  // Deleting the host veth first is synchronous and takes the peer with it, so the address is
  // free at once even if a process still holds the namespace open.
  const lines = [...veths.map((v) => `link del ${v}`), ...netns.map((n) => `netns del ${n}`)];
  await run(["ip", "-force", "-batch", "-"], lines.join("\n"));
}

/** 12 characters of the UID: `<prefix>` + this fits the 15-character interface name limit. */
export function shortId(podUid: string): string {
  return podUid
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .slice(0, 12);
}

async function podAddress(netns: string): Promise<string | undefined> {
  const addrs = await run(["ip", "-n", netns, "-o", "-4", "addr", "show", "dev", "eth0"]);
  return addrs.code === 0 ? /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(addrs.stdout)?.[1] : undefined;
}

/** Named network namespaces starting with `prefix`. */
export function listNetns(prefix: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Network interfaces starting with `prefix`. */
export function listLinks(prefix: string): string[] {
  try {
    return readdirSync("/sys/class/net").filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
