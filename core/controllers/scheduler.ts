import type {
  Node,
  NodeSelectorRequirement,
  Pod,
  PodCondition,
  Taint,
  Toleration,
} from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { cpuMillis, quantityValue } from "../quantity.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { setCondition } from "./conditions.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";
import { isPodTerminal, podRequests } from "./pods.ts";

export const UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable";

/**
 * The default-scheduler: binds a pod to a node that takes new pods, whose taints its tolerations
 * cover, whose labels match its nodeSelector, where its required anti-affinity holds and the
 * requests of the pods already there plus this one fit allocatable (the least loaded such node
 * wins); otherwise the pod stays Pending with
 * PodScheduled=False/Unschedulable and the reason kube-scheduler would give.
 */
export function createScheduler(
  ctx: ControllerContext,
  { nodeName: ownNode }: { nodeName: string },
): Controller {
  const { client, informers, clock } = ctx;
  const pods = informers.for<Kube<Pod>>("pods");
  const nodes = informers.for<Kube<Node>>("nodes");
  const recorder = ctx.events("default-scheduler");

  const pending = () => pods.list().filter(needsScheduling).map(keyOf);
  const controller = createController({
    name: "scheduler",
    log: ctx.log,
    reconcile,
    // One at a time: two pods placed at once could both take the last free CPU.
    workers: 1,
    resync: { everyMs: 15_000, keys: pending },
  });

  pods.onEvent((e) => {
    if (needsScheduling(e.object)) controller.enqueue(keyOf(e.object));
    // A pod that leaves the node (or finishes) frees room for the ones waiting.
    const freed = e.type === "DELETED" || (isPodTerminal(e.object) && e.old && !isPodTerminal(e.old));
    if (freed && e.object.spec?.nodeName) for (const key of pending()) controller.enqueue(key);
  });
  nodes.onEvent(() => {
    for (const key of pending()) controller.enqueue(key);
  });

  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const pod = pods.get(namespace, name);
    if (!pod || !needsScheduling(pod)) return;
    const active = pods.list().filter((p) => p.spec?.nodeName && !isPodTerminal(p));
    const verdicts = nodes.list().map((node) => {
      const name = node.metadata.name ?? "";
      const here = active.filter((p) => p.spec?.nodeName === name);
      const reasons = fit(pod, node, here);
      if (!reasons.length && violatesAntiAffinity(pod, here)) reasons.push(ANTI_AFFINITY_REASON);
      return { name, reasons, load: here.length };
    });
    const chosen = pickNode(verdicts, ownNode);
    const now = timestamp(clock);
    if (chosen) {
      const nodeName = chosen;
      const bound = await client.update<Kube<Pod>>("pods", { ...pod, spec: { ...pod.spec!, nodeName } });
      pods.observe(bound);
      const conditions = setCondition(
        bound.status?.conditions as PodCondition[] | undefined,
        { type: "PodScheduled", status: "True" },
        now,
      );
      try {
        pods.observe(
          await client.updateStatus<Kube<Pod>>("pods", { ...bound, status: { ...bound.status, conditions } }),
        );
      } catch (e) {
        // The node agent got there first: it writes PodScheduled itself; the binding stands.
        if (!isApiError(e, "Conflict")) throw e;
      }
      recorder.record(
        pod,
        "Normal",
        "Scheduled",
        `Successfully assigned ${namespace}/${name} to ${nodeName}`,
      );
      return;
    }
    const message = verdicts.length
      ? unschedulableMessage(
          verdicts.flatMap((v) => v.reasons),
          verdicts.length,
        )
      : "no nodes available to schedule pods";
    const condition = { type: "PodScheduled", status: "False", reason: "Unschedulable", message };
    const conditions = setCondition(pod.status?.conditions as PodCondition[] | undefined, condition, now);
    if (deepEqual(conditions, pod.status?.conditions ?? [])) return;
    pods.observe(
      await client.updateStatus<Kube<Pod>>("pods", {
        ...pod,
        status: { ...pod.status, phase: "Pending", conditions },
      }),
    );
    recorder.record(pod, "Warning", "FailedScheduling", message);
  }
}

function needsScheduling(pod: Pod): boolean {
  return (
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    !isPodTerminal(pod) &&
    (pod.spec?.schedulerName ?? "default-scheduler") === "default-scheduler"
  );
}

/** `0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.` (reasons of every node) */
export function unschedulableMessage(reasons: string[], nodeCount = 1): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return `0/${nodeCount} nodes are available: ${[...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([r, n]) => `${n} ${r}`)
    .join(", ")}.`;
}

const ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules";

/**
 * The feasible node with the fewest pods (kube-scheduler's spreading, simplified); a tie goes to
 * this server's own node, then by name, so a one-node cluster behaves as before.
 */
export function pickNode(
  verdicts: { name: string; reasons: string[]; load: number }[],
  ownNode: string,
): string | undefined {
  const feasible = verdicts.filter((v) => v.reasons.length === 0);
  feasible.sort(
    (a, b) =>
      a.load - b.load ||
      Number(b.name === ownNode) - Number(a.name === ownNode) ||
      (a.name < b.name ? -1 : 1),
  );
  return feasible[0]?.name;
}

/**
 * Required pod anti-affinity with the hostname topology (one node = one domain): no pod on the
 * node in the term's namespaces may match its selector. Other topology keys are not modelled.
 */
export function violatesAntiAffinity(pod: Pod, podsOnNode: Pod[]): boolean {
  const terms = pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.some((term) => {
    if (term.topologyKey !== "kubernetes.io/hostname") return false;
    const namespaces = term.namespaces?.length ? term.namespaces : [pod.metadata?.namespace ?? "default"];
    return podsOnNode.some(
      (p) =>
        p.metadata?.uid !== pod.metadata?.uid &&
        namespaces.includes(p.metadata?.namespace ?? "default") &&
        labelSelectorMatches(term.labelSelector, p.metadata?.labels ?? {}),
    );
  });
}

/**
 * Why the pod does not fit the node (empty = it fits). Like kube-scheduler's filter plugins,
 * the first plugin that fails decides; the resource check reports every short resource.
 */
export function fit(pod: Pod, node: Node, podsOnNode: Pod[]): string[] {
  const tolerations = pod.spec?.tolerations ?? [];
  if (
    node.spec?.unschedulable &&
    !tolerations.some((t) => tolerates(t, { key: UNSCHEDULABLE_TAINT, effect: "NoSchedule" }))
  ) {
    return ["node(s) were unschedulable"];
  }
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === "PreferNoSchedule" || tolerations.some((t) => tolerates(t, taint))) continue;
    return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`];
  }
  if (!matchesNodeSelector(pod, node)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (hostPortsTaken(pod, podsOnNode)) return ["node(s) didn't have free ports for the requested pod ports"];
  const alloc = node.status?.allocatable ?? {};
  const others = podsOnNode.filter((p) => p.metadata?.uid !== pod.metadata?.uid);
  const used = others.map(podRequests).reduce(
    (a, b) => ({
      cpuMillis: a.cpuMillis + b.cpuMillis,
      memory: a.memory + b.memory,
      ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage,
    }),
    { cpuMillis: 0, memory: 0, ephemeralStorage: 0 },
  );
  const want = podRequests(pod);
  const reasons: string[] = [];
  if (alloc.pods !== undefined && others.length + 1 > quantityValue(alloc.pods))
    reasons.push("Too many pods");
  if (want.cpuMillis > 0 && used.cpuMillis + want.cpuMillis > cpuMillis(alloc.cpu))
    reasons.push("Insufficient cpu");
  if (want.memory > 0 && used.memory + want.memory > quantityValue(alloc.memory))
    reasons.push("Insufficient memory");
  if (
    want.ephemeralStorage > 0 &&
    used.ephemeralStorage + want.ephemeralStorage > quantityValue(alloc["ephemeral-storage"])
  ) {
    reasons.push("Insufficient ephemeral-storage");
  }
  return reasons;
}

/** nodeSelector and required node affinity (terms ORed, expressions ANDed). */
export function matchesNodeSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  if (!Object.entries(pod.spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v)) return false;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return true;
  return terms.some(
    (t) =>
      (t.matchExpressions ?? []).every((e) => requirementMatches(e, labels[e.key])) &&
      (t.matchFields ?? []).every(
        (e) => e.key === "metadata.name" && requirementMatches(e, node.metadata?.name),
      ),
  );
}

function requirementMatches(e: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = e.values ?? [];
  switch (e.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** A hostPort (same protocol, overlapping hostIP) already used by a pod on the node. */
function hostPortsTaken(pod: Pod, podsOnNode: Pod[]): boolean {
  const ports = (p: Pod) =>
    (p.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? [])
        .filter((x) => x.hostPort)
        .map((x) => ({ port: x.hostPort!, protocol: x.protocol ?? "TCP", ip: x.hostIP || "0.0.0.0" })),
    );
  const wanted = ports(pod);
  if (!wanted.length) return false;
  const used = podsOnNode.filter((p) => p.metadata?.uid !== pod.metadata?.uid).flatMap(ports);
  return wanted.some((w) =>
    used.some(
      (u) =>
        u.port === w.port &&
        u.protocol === w.protocol &&
        (u.ip === w.ip || u.ip === "0.0.0.0" || w.ip === "0.0.0.0"),
    ),
  );
}

/** Kubernetes' Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Pick<Taint, "key" | "value" | "effect">): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== "Exists") return false;
  return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
}
