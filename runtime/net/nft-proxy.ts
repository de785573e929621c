import { RuntimeError } from "../../core/seams/container-runtime.ts";
import type { ProxyServicePort, ServiceProxy } from "../../core/seams/service-proxy.ts";
import { deleteUdpFlows, staleUdpFlows } from "./conntrack.ts";
import { run, runOk } from "./exec.ts";
import type { HostPortMapping, HostPortTable } from "./host-ports.ts";
import { createJsonFile } from "./json-file.ts";
import { latestOnly } from "./latest-only.ts";
import { isSpecificIPv4, portConflicts, renderRuleset } from "./nft-ruleset.ts";

/**
 * The service data path: Services and hostPorts as one nftables table (`ip minik`), replaced
 * atomically by one `nft -f` per change. Chosen by measurement: DNAT in the kernel ran as fast as
 * direct pod access, a userspace proxy at about half (see the networking reference). Other tools'
 * tables are never touched.
 */
/** minik's nftables table (family `ip`); tests use their own. */
export const DEFAULT_NFT_TABLE = "minik";

export interface NftProxy extends ServiceProxy, HostPortTable {
  readonly table: string;
  /** The text the next apply would load (for debugging and tests). */
  render(): Promise<string>;
  /**
   * Loads the table (empty of Services, with the saved hostPorts) unless one is already there: a
   * restart keeps the previous table serving until the controller's first sync replaces it.
   */
  ensureLoaded(): Promise<void>;
  /** Deletes the table. */
  cleanup(): Promise<void>;
}

export interface NftProxyOptions {
  /** Default `minik`; tests use their own. */
  table?: string;
  podCidr: string;
  bridge: string;
  /** Where NodePorts answer; default ["127.0.0.1"]; `"local"` for every local address. */
  nodePortAddresses?: string[] | "local";
  outboundNat?: boolean;
  /** Every node's pods (see RulesetInput.clusterCidr). */
  clusterCidr?: string;
  /** JSON file keeping hostPort mappings across restarts (e.g. `<data-dir>/network/hostports.json`). */
  stateFile?: string;
}

interface HostPortEntry {
  podIp: string;
  mappings: HostPortMapping[];
  podName: string;
}

export async function createNftProxy(options: NftProxyOptions): Promise<NftProxy> {
  const table = options.table ?? DEFAULT_NFT_TABLE;
  const file = options.stateFile
    ? createJsonFile<Record<string, HostPortEntry>>(options.stateFile)
    : undefined;
  const hostPorts = new Map<string, HostPortEntry>(Object.entries((await file?.read()) ?? {}));
  let services: ProxyServicePort[] = [];

  async function render(ports = services): Promise<string> {
    const affinity = ports.some((s) => s.affinityTimeoutSeconds) ? await readAffinity(table) : undefined;
    return renderRuleset({
      table,
      podCidr: options.podCidr,
      bridge: options.bridge,
      nodePortAddresses: options.nodePortAddresses ?? ["127.0.0.1"],
      services: ports,
      hostPorts: [...hostPorts.values()],
      outboundNat: options.outboundNat,
      clusterCidr: options.clusterCidr,
      affinity,
    });
  }

  // What the kernel has now, to find UDP flows a change leaves stale.
  let applied: ProxyServicePort[] = [];

  async function applyNow(): Promise<void> {
    const target = services;
    await runOk(["nft", "-f", "-"], await render(target), `loading nftables table ${table}`);
    const stale = staleUdpFlows(applied, target);
    applied = target;
    await deleteUdpFlows(stale);
  }

  const applier = latestOnly(applyNow);
  const apply = applier.run;

  // Until the first sync this process knows no Services: rewriting a table left by the previous
  // run would drop them all for a moment, so hostPort changes then wait for that sync (they are
  // in `hostPorts` already) unless there is no table at all.
  let servicesKnown = false;
  async function applyHostPorts(): Promise<void> {
    if (!servicesKnown && (await hasNftTable(table))) return;
    await apply();
  }

  async function saveHostPorts(): Promise<void> {
    await file?.write(Object.fromEntries(hostPorts));
  }

  const proxy: NftProxy = {
    table,
    render: () => render(),
    async sync(ports) {
      services = ports;
      servicesKnown = true;
      await apply();
      return { warnings: portConflicts(ports, [...hostPorts.values()]) };
    },
    checkHostPorts(podUid, mappings, podName) {
      for (const m of mappings) {
        for (const [uid, entry] of hostPorts) {
          if (uid === podUid) continue;
          const clash = entry.mappings.find(
            (o) => o.hostPort === m.hostPort && o.protocol === m.protocol && overlaps(o.hostIP, m.hostIP),
          );
          if (clash) {
            throw new RuntimeError(
              "HostPortConflict",
              `pod ${podName ?? podUid}: hostPort ${m.hostPort}/${m.protocol} is already used by pod ${entry.podName}; choose another hostPort or delete that pod`,
            );
          }
        }
        const svc = services.find((s) => s.nodePort === m.hostPort && s.protocol === m.protocol);
        if (svc) {
          throw new RuntimeError(
            "HostPortConflict",
            `pod ${podName ?? podUid}: hostPort ${m.hostPort}/${m.protocol} is the nodePort of service ${svc.key.split(":")[0]}; choose another hostPort`,
          );
        }
      }
    },
    async setHostPorts(podUid, podIp, mappings, podName) {
      const before = hostPorts.get(podUid);
      if (!mappings.length && !before) return;
      proxy.checkHostPorts(podUid, mappings, podName);
      if (mappings.length) hostPorts.set(podUid, { podIp, mappings, podName: podName ?? podUid });
      else hostPorts.delete(podUid);
      // Saved before the kernel has it: after a crash in between, a restart still knows the mapping.
      try {
        await saveHostPorts();
        await applyHostPorts();
      } catch (e) {
        if (before) hostPorts.set(podUid, before);
        else hostPorts.delete(podUid);
        await saveHostPorts().catch(() => {});
        throw e;
      }
    },
    async removeHostPorts(podUid) {
      if (!hostPorts.delete(podUid)) return;
      await saveHostPorts();
      await applyHostPorts();
    },
    async retainHostPorts(live) {
      const keep = new Set(live);
      const dead = [...hostPorts.keys()].filter((uid) => !keep.has(uid));
      if (!dead.length) return;
      for (const uid of dead) hostPorts.delete(uid);
      await saveHostPorts();
      await applyHostPorts();
    },
    async ensureLoaded() {
      if (!(await hasNftTable(table))) await apply();
    },
    async cleanup() {
      services = [];
      hostPorts.clear();
      await saveHostPorts();
      await applier.idle();
      await deleteNftTable(table);
    },
  };
  return proxy;
}

export async function hasNftTable(table: string): Promise<boolean> {
  return (await run(["nft", "list", "table", "ip", table])).code === 0;
}

/** Deletes the table; one that is not there is not an error. */
export async function deleteNftTable(table: string): Promise<void> {
  await run(["nft", "delete", "table", "ip", table]);
}

function overlaps(a: string | undefined, b: string | undefined): boolean {
  return !isSpecificIPv4(a) || !isSpecificIPv4(b) || a === b;
}

/** The live client → endpoint affinity entries, so a re-render does not forget who sticks where. */
async function readAffinity(table: string): Promise<Map<string, { ip: string; expires: number }[]>> {
  const result = new Map<string, { ip: string; expires: number }[]>();
  // Only sets (elements included): much less to print and parse than the whole table.
  const listed = await run(["nft", "-j", "list", "sets", "ip"]);
  if (listed.code !== 0) return result;
  try {
    for (const item of JSON.parse(listed.stdout).nftables ?? []) {
      const set = item.set;
      if (set?.table !== table || !set.name?.startsWith("aff_")) continue;
      const elems: { ip: string; expires: number }[] = [];
      for (const e of set.elem ?? []) {
        if (typeof e === "string") continue;
        const ip = e.elem?.val;
        if (typeof ip === "string") elems.push({ ip, expires: Number(e.elem.expires ?? 0) });
      }
      result.set(set.name, elems);
    }
  } catch {
    // Unparseable output only costs stickiness, never the sync.
  }
  return result;
}
