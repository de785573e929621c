import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, NodeCondition, Taint } from "kubernetes-types/core/v1";
import { parseTime, timestamp } from "../loop/clock.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

export const UNREACHABLE_TAINT = "node.kubernetes.io/unreachable";
const LEASE_RESOURCE = "leases.coordination.k8s.io";
const LEASE_NAMESPACE = "kube-node-lease";

export interface NodeLifecycleOptions {
  /** The server's own node: its controller heartbeats in this process, nothing to watch. */
  ownNode: string;
  /** kube-controller-manager's --node-monitor-grace-period (40 s). */
  gracePeriodMs?: number;
}

/**
 * kube-controller-manager's node lifecycle controller for nodes that joined over the network:
 * a node whose Lease and status both stopped being renewed for the grace period gets its
 * conditions set to Unknown ("Kubelet stopped posting node status.") and the unreachable taints;
 * the NoExecute one makes the taint eviction controller evict its pods after their toleration
 * (300 s by default). When the node heartbeats again, the taints go.
 */
export function createNodeLifecycleController(
  ctx: ControllerContext,
  options: NodeLifecycleOptions,
): Controller {
  const { client, informers, clock } = ctx;
  const grace = options.gracePeriodMs ?? 40_000;
  const nodes = informers.for<Kube<Node>>("nodes");
  const leases = informers.for<Kube<Lease>>(LEASE_RESOURCE);
  const recorder = ctx.events("node-controller");
  const controller = createController({
    name: "node-lifecycle",
    log: ctx.log,
    reconcile,
    workers: 1,
    resync: {
      everyMs: Math.max(1000, grace / 4),
      keys: () => nodes.list().map((n) => n.metadata.name ?? ""),
    },
  });
  nodes.onEvent((e) => {
    if (e.type !== "DELETED") controller.enqueue(e.object.metadata.name ?? "");
  });
  leases.onEvent((e) => {
    if (e.object.metadata.namespace === LEASE_NAMESPACE) controller.enqueue(e.object.metadata.name ?? "");
  });
  return controller;

  async function reconcile(name: string) {
    const node = nodes.get("", name);
    if (!node || name === options.ownNode) return;
    const lease = leases.get(LEASE_NAMESPACE, name);
    const age = clock.now() - lastHeartbeat(node, lease);
    const stale = age >= grace;
    const now = timestamp(clock);
    const taints = unreachableTaints(node.spec?.taints ?? [], stale, now);
    if (taints) {
      nodes.observe(
        await client.update<Kube<Node>>("nodes", {
          ...node,
          spec: { ...node.spec, taints: taints.length ? taints : undefined },
        }),
      );
    }
    const current = nodes.get("", name) ?? node;
    const ready = current.status?.conditions?.find((c) => c.type === "Ready");
    if (stale && ready && ready.status !== "Unknown") {
      const conditions = (current.status?.conditions ?? []).map((c) => unknown(c, now));
      nodes.observe(
        await client.updateStatus<Kube<Node>>("nodes", {
          ...current,
          status: { ...current.status, conditions },
        }),
      );
      recorder.record(current, "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
    }
    return stale ? undefined : { requeueAfterMs: grace - age + 100 };
  }
}

function lastHeartbeat(node: Node, lease: Lease | undefined): number {
  const times = [
    lease?.spec?.renewTime,
    ...(node.status?.conditions ?? []).map((c) => c.lastHeartbeatTime),
    node.metadata?.creationTimestamp,
  ]
    .filter((t): t is string => !!t)
    .map(parseTime)
    .filter(Number.isFinite);
  return Math.max(0, ...times);
}

function unknown(c: NodeCondition, now: string): NodeCondition {
  if (c.status === "Unknown") return c;
  return {
    ...c,
    status: "Unknown",
    reason: "NodeStatusUnknown",
    message: "Kubelet stopped posting node status.",
    lastTransitionTime: now,
  };
}

/** The taints with the unreachable pair brought in line with staleness; undefined = unchanged. */
function unreachableTaints(taints: Taint[], stale: boolean, now: string): Taint[] | undefined {
  const has = (effect: string) => taints.some((t) => t.key === UNREACHABLE_TAINT && t.effect === effect);
  if (stale && !has("NoSchedule") && !has("NoExecute")) {
    const others = taints.filter((t) => t.key !== UNREACHABLE_TAINT);
    return [
      ...others,
      { key: UNREACHABLE_TAINT, effect: "NoSchedule", timeAdded: now },
      { key: UNREACHABLE_TAINT, effect: "NoExecute", timeAdded: now },
    ];
  }
  if (!stale && (has("NoSchedule") || has("NoExecute")))
    return taints.filter((t) => t.key !== UNREACHABLE_TAINT);
  return undefined;
}
