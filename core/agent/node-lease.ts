import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { Clock } from "../loop/clock.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";

/** The namespace that holds one Lease per node (the kubelet's heartbeat). */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
export const NODE_LEASE_RESOURCE = "leases.coordination.k8s.io";
/** As the kubelet: a 40 s lease renewed every quarter of it. */
const LEASE_DURATION_SECONDS = 40;
const RENEW_MS = 10_000;
/** After a failed renewal, try again sooner. */
const RETRY_MS = 1_000;

type LeaseObject = Lease & KubeObject;

export interface NodeLease {
  /** Writes the lease once now, then keeps renewing it. */
  start(): Promise<void>;
  stop(): void;
  /** One renewal (tests). */
  renew(): Promise<LeaseObject>;
}

/**
 * The node's Lease in kube-node-lease, renewed by the node agent as the kubelet does: the holder
 * is the node, owned by the Node object (so it goes with it), with renewTime moved forward on
 * every beat. `kubectl describe node` prints it under "Lease".
 */
export function createNodeLease(options: {
  client: Client;
  nodeName: string;
  clock: Clock;
  log: (message: string) => void;
  renewMs?: number;
}): NodeLease {
  const { client, nodeName, clock, log } = options;
  let timer: unknown;
  let stopped = false;

  async function renew(): Promise<LeaseObject> {
    const now = microTime(clock.now());
    const existing = await client.tryGet<LeaseObject>(NODE_LEASE_RESOURCE, NODE_LEASE_NAMESPACE, nodeName);
    const ownerReferences = existing?.metadata.ownerReferences?.length
      ? existing.metadata.ownerReferences
      : await nodeOwner();
    const spec = {
      holderIdentity: nodeName,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: now,
    };
    if (!existing) {
      return client.create<LeaseObject>(NODE_LEASE_RESOURCE, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: nodeName, namespace: NODE_LEASE_NAMESPACE, ownerReferences },
        spec,
      });
    }
    return client.update<LeaseObject>(NODE_LEASE_RESOURCE, {
      ...existing,
      metadata: { ...existing.metadata, ownerReferences },
      spec: { ...existing.spec, ...spec },
    });
  }

  async function nodeOwner() {
    const node = await client.tryGet<Node & KubeObject>("nodes", "", nodeName);
    if (!node?.metadata.uid) return undefined;
    return [{ apiVersion: "v1", kind: "Node", name: nodeName, uid: node.metadata.uid }];
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      renew().then(
        () => schedule(options.renewMs ?? RENEW_MS),
        (e) => {
          if (!isApiError(e, "Conflict"))
            log(`renewing the node lease: ${e instanceof Error ? e.message : e}`);
          schedule(RETRY_MS);
        },
      );
    }, ms);
  }

  return {
    async start() {
      stopped = false;
      await renew().catch((e) => log(`creating the node lease: ${e instanceof Error ? e.message : e}`));
      schedule(options.renewMs ?? RENEW_MS);
    },
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
    renew,
  };
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
