import type { KubeObject } from "../object.ts";

/**
 * Leader election over a coordination.k8s.io/v1 Lease, as kube-controller-manager does it, so
 * that API servers sharing one datastore run the cluster's controllers exactly once. The lease is
 * taken and renewed with the store's optimistic concurrency: of two servers writing the same
 * resourceVersion, one wins. A leader that cannot renew within the lease duration stops leading
 * before another can take over (renew deadline < lease duration).
 */
/** Where the Lease lives: the registry once Leases are served, or the store beneath it. */
export interface LeaseClient {
  get(resource: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  create(resource: string, obj: KubeObject): Promise<KubeObject>;
  update(resource: string, obj: KubeObject): Promise<KubeObject>;
}

export interface LeaderElectionOptions {
  leases: LeaseClient;
  /** Unique per server: `<hostname>_<random>`. */
  identity: string;
  namespace?: string;
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => number;
  onStartedLeading(): Promise<void> | void;
  onStoppedLeading(): Promise<void> | void;
  log?: (message: string) => void;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Gives the lease up (a clean shutdown lets the next leader start at once). */
  stop(): Promise<void>;
}

const RESOURCE = "leases.coordination.k8s.io";

/** RFC 3339 with microseconds, as Kubernetes writes a Lease's MicroTime. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

export function startLeaderElection(o: LeaderElectionOptions): LeaderElection {
  const namespace = o.namespace ?? "kube-system";
  const name = o.name ?? "minik-controllers";
  const durationMs = o.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
  const retryMs = o.retryPeriodMs ?? 2_000;
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  let leading = false;
  let lastRenew = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const lease = (prev: KubeObject | undefined, holder: string, transitions: number): KubeObject => ({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { ...(prev?.metadata ?? {}), name, namespace },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: Math.max(1, Math.ceil(durationMs / 1000)),
      acquireTime:
        holder === o.identity && leading
          ? (prev?.spec as { acquireTime?: string })?.acquireTime
          : microTime(now()),
      renewTime: microTime(now()),
      leaseTransitions: transitions,
    },
  });

  /** One try to take or renew the lease; true when this server holds it afterwards. */
  async function tryAcquireOrRenew(): Promise<boolean> {
    const current = await o.leases.get(RESOURCE, namespace, name);
    if (!current) {
      await o.leases.create(RESOURCE, lease(undefined, o.identity, 0));
      return true;
    }
    const spec = (current.spec ?? {}) as {
      holderIdentity?: string;
      renewTime?: string;
      leaseDurationSeconds?: number;
      leaseTransitions?: number;
    };
    const expires = Date.parse(spec.renewTime ?? "") + (spec.leaseDurationSeconds ?? 15) * 1000;
    const mine = spec.holderIdentity === o.identity;
    if (!mine && spec.holderIdentity && now() < expires) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    await o.leases.update(RESOURCE, lease(current, o.identity, transitions));
    return true;
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    let held = false;
    try {
      held = await tryAcquireOrRenew();
    } catch (e) {
      // a lost race (Conflict/AlreadyExists) is an answer; anything else is a failed renew
      if (!lostRace(e)) log(`leader election: ${(e as Error).message}`);
    }
    if (held) lastRenew = now();
    if (held && !leading) {
      leading = true;
      log(`leader election: ${o.identity} is the leader; starting controllers`);
      await o.onStartedLeading();
    } else if (leading && !held && now() - lastRenew > renewDeadlineMs) {
      leading = false;
      log(`leader election: ${o.identity} lost the lease; stopping controllers`);
      await o.onStoppedLeading();
    }
    if (!stopped)
      timer = setTimeout(() => void tick(), leading ? Math.min(retryMs, renewDeadlineMs / 2) : retryMs);
  }

  void tick();
  return {
    isLeader: () => leading,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leading) return;
      leading = false;
      await o.onStoppedLeading();
      // Release: an expired renewTime lets the next server take over without waiting it out.
      const current = await o.leases.get(RESOURCE, namespace, name).catch(() => undefined);
      if ((current?.spec as { holderIdentity?: string })?.holderIdentity === o.identity) {
        const released = { ...current!, spec: { ...(current!.spec as object), renewTime: microTime(0) } };
        await o.leases.update(RESOURCE, released).catch(() => {});
      }
    },
  };
}

/** Conflict or AlreadyExists, from the store (`code`) or the registry (`reason`). */
function lostRace(e: unknown): boolean {
  const { code, reason } = (e ?? {}) as { code?: string; reason?: string };
  return ["Conflict", "AlreadyExists"].includes(code ?? reason ?? "");
}
