import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_POD_CIDR, DEFAULT_SERVICE_CIDR } from "../../core/config.ts";
import { cidrContains, parseCidr, parseIPv4 } from "../../core/network/cidr.ts";
import { createDnsResolver, type ServiceRecord } from "./dns-resolver.ts";
import { createForwarder, type DnsServer, hostUpstreams, startDnsServer } from "./dns-server.ts";
import { createIpam, type Ipam } from "./ipam.ts";
import { createFileIpamPersistence } from "./json-file.ts";
import { createNftPolicyEnforcer, type NftPolicyEnforcer } from "./nft-policy.ts";
import { policyTableOf } from "./nft-policy-ruleset.ts";
import {
  createNftProxy,
  DEFAULT_NFT_TABLE,
  deleteNftTable,
  hasNftTable,
  type NftProxy,
} from "./nft-proxy.ts";
import { acquireNodeLock, lockFile, type NodeLock } from "./node-lock.ts";
import {
  createPodNetwork,
  DEFAULT_BRIDGE,
  DEFAULT_NETNS_PREFIX,
  DEFAULT_VETH_PREFIX,
  listLinks,
  listNetns,
  type PodNetwork,
  removePodNetworks,
} from "./pod-network.ts";
import { createKernelPodRoutes, type KernelPodRoutes } from "./pod-routes.ts";

/**
 * The node's whole network, assembled: IPAM (persisted in `<data-dir>/network/ipam.json`), the
 * bridge and pod namespaces, the nft service proxy (hostPorts persisted in
 * `<data-dir>/network/hostports.json`), the NetworkPolicy table and the cluster DNS server on the bridge gateway.
 *
 * Start-up order: `createNodeNetwork` (creates the bridge) → `podNetwork.reconcile(live pod UIDs)`
 * → `startDns(view)` → the service proxy controller syncs `proxy`.
 */
export interface NodeNetwork {
  ipam: Ipam;
  podNetwork: PodNetwork;
  /** Pass to CrunRuntime (`network`) for pods and to the service proxy controller. */
  proxy: NftProxy;
  /** NetworkPolicies, as the table `<table>_policy` beside the proxy's (for the policy controller). */
  policy: NftPolicyEnforcer;
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
  /** The node health check of the network: throws when the bridge is gone or down. */
  health(): Promise<void>;
  /** Routes to the other nodes' pod ranges (pod-routes-controller.ts keeps them). */
  routes: KernelPodRoutes;
}

/** The host names the node network uses; minik's own unless a test passes its own. */
export interface NodeNetworkNames {
  bridge?: string;
  table?: string;
  netnsPrefix?: string;
  vethPrefix?: string;
}

function namesOf(options: NodeNetworkNames): Required<NodeNetworkNames> {
  return {
    bridge: options.bridge ?? DEFAULT_BRIDGE,
    table: options.table ?? DEFAULT_NFT_TABLE,
    netnsPrefix: options.netnsPrefix ?? DEFAULT_NETNS_PREFIX,
    vethPrefix: options.vethPrefix ?? DEFAULT_VETH_PREFIX,
  };
}

export interface NodeNetworkOptions extends NodeNetworkNames {
  dataDir: string;
  podCidr?: string;
  serviceCidr?: string;
  /** Default ["127.0.0.1"]. */
  nodePortAddresses?: string[] | "local";
  outboundNat?: boolean;
  /** Every node's pod range: pod traffic to it is routed to the other nodes (multi-node clusters). */
  clusterCidr?: string;
  /** Where the one-minik-per-bridge pid file lives; default /run/minik. */
  lockDir?: string;
  log?: (message: string) => void;
}

export async function createNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetwork> {
  const bridge = options.bridge ?? DEFAULT_BRIDGE;
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
    clusterCidr: options.clusterCidr,
    stateFile: join(stateDir, "hostports.json"),
  });
  const policy = createNftPolicyEnforcer({ table: policyTableOf(proxy.table), bridge });
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
  const routes = createKernelPodRoutes({ log: options.log });
  return {
    routes,
    async health() {
      let flags: number;
      try {
        flags = Number.parseInt(readFileSync(`/sys/class/net/${bridge}/flags`, "utf8").trim(), 16);
      } catch {
        throw new Error(`bridge ${bridge} is missing`);
      }
      // Administratively up (IFF_UP) is what counts: a bridge without ports (no pod yet) has no
      // carrier, so its operstate says "down" although it works.
      if (!(flags & 0x1)) throw new Error(`bridge ${bridge} is down (ip link set ${bridge} up)`);
    },
    ipam,
    podNetwork,
    proxy,
    policy,
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
      await policy.cleanup();
      await routes.cleanup();
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
 * bridge, nft tables (services, policies) and the saved network state under `<data-dir>/network`. For `minik reset`.
 */
export async function removeNodeNetwork(options: NodeNetworkNames & { dataDir?: string }): Promise<void> {
  const names = namesOf(options);
  await removePodNetworks(names);
  await deleteNftTable(names.table);
  await deleteNftTable(policyTableOf(names.table));
  await createKernelPodRoutes().cleanup();
  rmSync(lockFile(names.bridge), { force: true });
  if (options.dataDir) rmSync(join(options.dataDir, "network"), { recursive: true, force: true });
}

/** What of the node network is on the host now, as printable names: what `minik reset` removes. */
export async function nodeNetworkTraces(options: NodeNetworkNames = {}): Promise<string[]> {
  const names = namesOf(options);
  const traces = [
    ...listNetns(names.netnsPrefix).map((n) => `network namespace ${n}`),
    ...listLinks(names.vethPrefix).map((l) => `veth ${l}`),
  ];
  if (existsSync(`/sys/class/net/${names.bridge}`)) traces.push(`bridge ${names.bridge} (and its sysctls)`);
  for (const table of [names.table, policyTableOf(names.table)]) {
    if (await hasNftTable(table)) traces.push(`nft table ip ${table}`);
  }
  return traces;
}
