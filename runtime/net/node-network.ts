import { rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from "../../core/config.ts";
import { cidrContains, parseCidr, parseIPv4 } from "../../core/network/cidr.ts";
import { createDnsResolver, type ServiceRecord } from "./dns-resolver.ts";
import { createForwarder, type DnsServer, hostUpstreams, startDnsServer } from "./dns-server.ts";
import { run } from "./exec.ts";
import { createIpam, type Ipam } from "./ipam.ts";
import { createFileIpamPersistence } from "./json-file.ts";
import { createNftProxy, type NftProxy } from "./nft-proxy.ts";
import { acquireNodeLock, LOCK_DIR, type NodeLock } from "./node-lock.ts";
import { createPodNetwork, type PodNetwork, removePodNetworks } from "./pod-network.ts";

/**
 * The node's whole network, assembled: IPAM (persisted in `<data-dir>/network/ipam.json`), the
 * bridge and pod namespaces, the nft service proxy (hostPorts persisted in
 * `<data-dir>/network/hostports.json`) and the cluster DNS server on the bridge gateway.
 *
 * Start-up order: `createNodeNetwork` (creates the bridge) → `podNetwork.reconcile(live pod UIDs)`
 * → `startDns(view)` → the service proxy controller syncs `proxy`.
 */
export interface NodeNetwork {
  ipam: Ipam;
  podNetwork: PodNetwork;
  /** Pass to CrunRuntime (`network`) for pods and to the service proxy controller. */
  proxy: NftProxy;
  /** The pods' nameserver (`clusterDns.nameserver`): the bridge gateway, e.g. 10.88.0.1. */
  dnsAddress: string;
  /**
   * `nameOfAddress` (optional) answers reverse lookups of pod and Service addresses; other
   * addresses in the pod and service ranges get NXDOMAIN at once instead of going upstream.
   */
  startDns(
    lookupService: (namespace: string, name: string) => ServiceRecord | undefined,
    nameOfAddress?: (ip: string) => string | undefined,
  ): Promise<DnsServer>;
  /** Stops DNS and removes every trace: namespaces, veths, bridge, nft table, saved state. */
  cleanupAll(): Promise<void>;
  /** Stops DNS and lets another minik take the bridge; pods and rules stay (a restart adopts them). */
  stop(): void;
}

export interface NodeNetworkOptions {
  dataDir: string;
  podCidr?: string;
  serviceCidr?: string;
  bridge?: string;
  table?: string;
  /** Default ["127.0.0.1"]. */
  nodePortAddresses?: string[] | "local";
  outboundNat?: boolean;
  /** For tests running beside a real minik. */
  netnsPrefix?: string;
  vethPrefix?: string;
  /** Where the one-minik-per-bridge pid file lives; default /run/minik. */
  lockDir?: string;
}

export async function createNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetwork> {
  const bridge = options.bridge ?? "minik0";
  // Before anything is read or touched: a second minik on the same bridge would wreck the first.
  const lock = acquireNodeLock(bridge, options.lockDir);
  try {
    return await assemble(options, bridge, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function assemble(options: NodeNetworkOptions, bridge: string, lock: NodeLock): Promise<NodeNetwork> {
  const stateDir = join(options.dataDir, "network");
  const podCidr = options.podCidr ?? DEFAULT_POD_CIDR;
  const ipam = await createIpam({
    cidr: podCidr,
    persistence: createFileIpamPersistence(join(stateDir, "ipam.json")),
  });
  const proxy = await createNftProxy({
    table: options.table,
    podCidr: ipam.cidr,
    bridge,
    nodePortAddresses: options.nodePortAddresses,
    outboundNat: options.outboundNat,
    stateFile: join(stateDir, "hostports.json"),
  });
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const podNetwork = createPodNetwork({
    ipam,
    bridge,
    serviceCidr,
    hostPortTable: proxy,
    outboundNat: options.outboundNat,
    netnsPrefix: options.netnsPrefix,
    vethPrefix: options.vethPrefix,
  });
  try {
    await podNetwork.ensureBridge();
    await proxy.ensureLoaded();
  } catch (e) {
    throw new Error(`setting up the pod network (bridge ${bridge}, ${ipam.cidr}): ${(e as Error).message}`);
  }
  let dns: DnsServer | undefined;
  return {
    ipam,
    podNetwork,
    proxy,
    dnsAddress: ipam.gateway,
    async startDns(lookupService, nameOfAddress) {
      dns?.stop();
      const ranges = [parseCidr(ipam.cidr), parseCidr(serviceCidr)];
      const resolver = createDnsResolver({
        lookupService,
        lookupAddress: (ip) => {
          const n = parseIPv4(ip);
          if (n === undefined || !ranges.some((r) => cidrContains(r, n))) return undefined;
          const name = nameOfAddress?.(ip);
          return name ? { name } : {};
        },
        forward: createForwarder(hostUpstreams(ipam.gateway)),
      });
      try {
        dns = await startDnsServer({ address: ipam.gateway, resolver });
      } catch (e) {
        throw new Error(`starting cluster DNS on ${ipam.gateway}:53: ${(e as Error).message}`);
      }
      return dns;
    },
    async cleanupAll() {
      dns?.stop();
      dns = undefined;
      await podNetwork.cleanupAll();
      await proxy.cleanup();
      lock.release();
    },
    stop() {
      dns?.stop();
      dns = undefined;
      lock.release();
    },
  };
}

/**
 * Removes the node network without starting it (no saved state needed): pod namespaces and veths,
 * bridge, nft table and the saved network state under `<data-dir>/network`. For `minik reset`.
 */
export async function removeNodeNetwork(options: {
  dataDir?: string;
  bridge?: string;
  table?: string;
  netnsPrefix?: string;
  vethPrefix?: string;
}): Promise<void> {
  await removePodNetworks({
    bridge: options.bridge ?? "minik0",
    netnsPrefix: options.netnsPrefix ?? "minik-",
    vethPrefix: options.vethPrefix ?? "vmk",
  });
  await run(["nft", "delete", "table", "ip", options.table ?? "minik"]);
  rmSync(`${LOCK_DIR}/${options.bridge ?? "minik0"}.pid`, { force: true });
  if (options.dataDir) rmSync(join(options.dataDir, "network"), { recursive: true, force: true });
}
