import { ApiError } from "../../core/errors.ts";
import {
  type Cidr,
  cidrContains,
  firstHost,
  formatIPv4,
  lastHost,
  parseCidr,
  parseIPv4,
} from "../../core/network/cidr.ts";

/**
 * Pod IP address management. The gateway (first address of the range) belongs to the bridge;
 * every other host address is handed to one owner (a pod UID) at a time. Allocations are written
 * through `IpamPersistence` before the address is returned, so a restart never hands out an
 * address that a surviving pod still holds; `reconcile` then frees what belonged to pods that no
 * longer exist.
 *
 * Default ranges (core/config.ts): pods 10.88.0.0/16 (gateway 10.88.0.1), services 10.96.0.0/16.
 */
export interface Ipam {
  readonly cidr: string;
  readonly gateway: string;
  readonly prefixLength: number;
  /** The owner's address, allocating one if it has none. Idempotent. */
  allocate(owner: string): Promise<string>;
  release(owner: string): Promise<void>;
  /**
   * Records that `owner` really holds `ip` (found on a live pod at start-up). False when the
   * address is outside the range or another owner holds it.
   */
  claim(owner: string, ip: string): Promise<boolean>;
  lookup(owner: string): string | undefined;
  /** owner → address, a copy. */
  allocations(): Record<string, string>;
  /** Frees addresses of owners not in `liveOwners`; returns the owners freed. */
  reconcile(liveOwners: Iterable<string>): Promise<string[]>;
}

/** Where allocations survive restarts: a file in the data dir, or anything else the caller likes. */
export interface IpamPersistence {
  load(): Promise<Record<string, string> | undefined>;
  save(allocations: Record<string, string>): Promise<void>;
}

export function createMemoryIpamPersistence(): IpamPersistence {
  let saved: Record<string, string> | undefined;
  return {
    load: async () => (saved ? { ...saved } : undefined),
    save: async (allocations) => {
      saved = { ...allocations };
    },
  };
}

export async function createIpam(options: { cidr: string; persistence?: IpamPersistence }): Promise<Ipam> {
  const cidr = parseCidr(options.cidr);
  const persistence = options.persistence ?? createMemoryIpamPersistence();
  const byOwner = new Map<string, number>();
  const byAddress = new Map<number, string>();
  for (const [owner, text] of Object.entries((await persistence.load()) ?? {})) {
    const ip = parseIPv4(text);
    // Entries outside a changed range are dropped: those pods keep running on their old address
    // until restarted, and the new range never collides with them.
    if (ip === undefined || !cidrContains(cidr, ip) || ip === firstHost(cidr) || byAddress.has(ip)) continue;
    byOwner.set(owner, ip);
    byAddress.set(ip, owner);
  }
  // Next-fit from the last allocation, so a freed address is not reused at once (stale conntrack
  // entries and ARP caches of the previous pod fade first).
  let cursor = Math.max(firstHost(cidr), ...byOwner.values());
  // Serialise changes so concurrent allocations never save an older map over a newer one.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };
  const snapshot = () => Object.fromEntries([...byOwner].map(([o, ip]) => [o, formatIPv4(ip)]));

  return {
    cidr: cidr.text,
    gateway: formatIPv4(firstHost(cidr)),
    prefixLength: cidr.prefixLength,
    allocate: (owner) =>
      serial(async () => {
        const held = byOwner.get(owner);
        if (held !== undefined) return formatIPv4(held);
        const ip = nextFree(cidr, cursor, byAddress);
        if (ip === undefined) {
          throw new ApiError(
            "ServiceUnavailable",
            `no free pod IP address left in ${cidr.text} (${byOwner.size} in use): delete unused pods or start minik with a larger --pod-cidr`,
          );
        }
        byOwner.set(owner, ip);
        byAddress.set(ip, owner);
        try {
          await persistence.save(snapshot());
        } catch (e) {
          byOwner.delete(owner);
          byAddress.delete(ip);
          throw e;
        }
        cursor = ip;
        return formatIPv4(ip);
      }),
    release: (owner) =>
      serial(async () => {
        const ip = byOwner.get(owner);
        if (ip === undefined) return;
        byOwner.delete(owner);
        byAddress.delete(ip);
        await persistence.save(snapshot());
      }),
    claim: (owner, text) =>
      serial(async () => {
        const ip = parseIPv4(text);
        if (ip === undefined || !cidrContains(cidr, ip) || ip === firstHost(cidr)) return false;
        const holder = byAddress.get(ip);
        if (holder !== undefined) return holder === owner;
        const previous = byOwner.get(owner);
        if (previous !== undefined) byAddress.delete(previous);
        byOwner.set(owner, ip);
        byAddress.set(ip, owner);
        await persistence.save(snapshot());
        return true;
      }),
    lookup: (owner) => {
      const ip = byOwner.get(owner);
      return ip === undefined ? undefined : formatIPv4(ip);
    },
    allocations: snapshot,
    reconcile: (liveOwners) =>
      serial(async () => {
        const live = new Set(liveOwners);
        const dead = [...byOwner.keys()].filter((o) => !live.has(o));
        for (const owner of dead) {
          byAddress.delete(byOwner.get(owner)!);
          byOwner.delete(owner);
        }
        if (dead.length) await persistence.save(snapshot());
        return dead;
      }),
  };
}

function nextFree(cidr: Cidr, cursor: number, used: Map<number, string>): number | undefined {
  const first = firstHost(cidr) + 1; // first host is the gateway
  const last = lastHost(cidr);
  const span = last - first + 1;
  if (span <= 0) return undefined;
  for (let i = 1; i <= span; i++) {
    const ip = first + ((cursor - first + i + span) % span);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}
