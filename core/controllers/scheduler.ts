import type {
  Node,
  NodeSelectorRequirement,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  Taint,
  Toleration,
} from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { setCondition } from "../conditions.ts";
import { isApiError } from "../errors.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { cpuMillis, quantityValue } from "../quantity.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";
import { isPodTerminal, podRequests } from "./pods.ts";
import { type VolumeLookup, volumeVerdict } from "./scheduler-volumes.ts";

export const UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable";

/**
 * The default-scheduler: binds a pod to a node that takes new pods, whose taints its tolerations
 * cover, whose labels match its nodeSelector, where its claims allow it (scheduler-volumes.ts),
 * its required anti-affinity holds and the requests of the pods already there plus this one fit
 * allocatable (the least loaded such node wins); otherwise the pod stays Pending with
 * PodScheduled=False/Unschedulable and the reason kube-scheduler would give.
 */
export function createScheduler(
  ctx: ControllerContext,
  { nodeName: ownNode }: { nodeName: string },
): Controller {
  const { client, informers, clock } = ctx;
  const pods = informers.for<Kube<Pod>>("pods");
  const nodes = informers.for<Kube<Node>>("nodes");
  const claims = informers.for<Kube<PersistentVolumeClaim>>("persistentvolumeclaims");
  const classes = informers.for<Kube<StorageClass>>("storageclasses.storage.k8s.io");
  const volumes: VolumeLookup = { claim: (ns, name) => claims.get(ns, name), classes: () => classes.list() };
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
  // A node change, or a claim that appears, binds or goes, may let waiting pods in.
  for (const informer of [nodes, claims])
    informer.onEvent(() => {
      for (const key of pending()) controller.enqueue(key);
    });

  return controller;

  /**
   * One pass places every pod waiting (up to BURST), not just `key`: the fit of each is decided in
   * order against the nodes plus the pods placed before it in the same pass, so two pods never
   * take the same free CPU; then the bindings are written together. The keys of the pods placed
   * here find them bound when their turn comes and do nothing.
   */
  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const first = pods.get(namespace, name);
    if (!first || !needsScheduling(first)) return;
    const waiting = [first, ...pods.list().filter((p) => p !== first && needsScheduling(p))]
      .slice(0, BURST)
      .sort(byCreation);
    const candidates = nodes.list();
    const active = pods.list().filter((p) => p.spec?.nodeName && !isPodTerminal(p));
    const writes: Promise<void>[] = [];
    for (const pod of waiting) {
      const placed = place(pod, candidates, active);
      if (placed.node) {
        active.push({ ...pod, spec: { ...pod.spec!, nodeName: placed.node } });
        writes.push(bind(pod, placed.node));
      } else writes.push(markUnschedulable(pod, placed.why));
    }
    const results = await Promise.allSettled(writes);
    // this key's failure goes through the queue's back-off; the others are simply queued again
    results.forEach((r, i) => {
      if (r.status === "rejected" && waiting[i] !== first) controller.enqueue(keyOf(waiting[i]!));
    });
    const mine = results[waiting.indexOf(first)];
    if (mine?.status === "rejected") throw mine.reason;
  }

  /** The node for `pod` given the pods already placed, or why none takes it. */
  function place(pod: Kube<Pod>, candidates: Node[], active: Pod[]): { node?: string; why?: string } {
    if (!candidates.length) return {};
    const verdicts = candidates.map((node) => {
      const name = node.metadata?.name ?? "";
      const here = active.filter((p) => p.spec?.nodeName === name);
      const byVolumes = volumeVerdict(pod, volumes, here);
      const reasons = byVolumes.preFilter
        ? [byVolumes.preFilter]
        : byVolumes.filter
          ? [byVolumes.filter]
          : fit(pod, node, here);
      if (!reasons.length && violatesAntiAffinity(pod, here)) reasons.push(ANTI_AFFINITY_REASON);
      return { name, reasons, load: here.length, preFilter: byVolumes.preFilter };
    });
    const chosen = pickNode(verdicts, ownNode);
    if (chosen) return { node: chosen };
    // A claim that rules out every node (unbound, missing) is said once, as kube-scheduler's PreFilter.
    const pre = verdicts.find((v) => v.preFilter)?.preFilter;
    if (pre) return { why: `0/${verdicts.length} nodes are available: ${pre}.` };
    return {
      why: unschedulableMessage(
        verdicts.flatMap((v) => v.reasons),
        verdicts.length,
      ),
    };
  }

  /**
   * kube-scheduler's Binding: spec.nodeName and PodScheduled=True in one write (pods/binding),
   * then the Scheduled event. A pod bound or deleted meanwhile is a Conflict: nothing to do.
   */
  async function bind(pod: Kube<Pod>, nodeName: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(pod));
    try {
      pods.observe(
        await client.bind<Kube<Pod>>(namespace, name, {
          metadata: { name, uid: pod.metadata.uid },
          target: { kind: "Node", name: nodeName },
        }),
      );
    } catch (e) {
      if (isApiError(e, "Conflict")) return;
      throw e;
    }
    recorder.record(pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${nodeName}`);
  }

  /** PodScheduled=False/Unschedulable with kube-scheduler's message; nothing when already so. */
  async function markUnschedulable(pod: Kube<Pod>, why?: string): Promise<void> {
    const message = why ?? "no nodes available to schedule pods";
    const condition = { type: "PodScheduled", status: "False", reason: "Unschedulable", message };
    const conditions = setCondition(
      pod.status?.conditions as PodCondition[] | undefined,
      condition,
      timestamp(clock),
    );
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

/** Pods placed in one pass at most: bounds the work (and the writes in flight) of one reconcile. */
const BURST = 100;

/** Oldest first, as kube-scheduler's queue orders pods of equal priority. */
function byCreation(a: Pod, b: Pod): number {
  return (a.metadata?.creationTimestamp ?? "").localeCompare(b.metadata?.creationTimestamp ?? "");
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
  const taken = hostPortTaken(pod, podsOnNode);
  if (taken) return [`node(s) didn't have free ports for the requested pod ports (${taken})`];
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

/**
 * The first hostPort (same protocol, overlapping hostIP) already used by a pod on the node, named
 * with its holder so the FailedScheduling event says what to free. hostNetwork pods hold each
 * containerPort (the API defaults it as their hostPort); sidecars run all along, so theirs count.
 */
function hostPortTaken(pod: Pod, podsOnNode: Pod[]): string | undefined {
  const ports = (p: Pod) =>
    [
      ...(p.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"),
      ...(p.spec?.containers ?? []),
    ]
      .flatMap((c) => c.ports ?? [])
      .map((x) => ({
        port: x.hostPort || (p.spec?.hostNetwork ? x.containerPort : 0),
        protocol: x.protocol ?? "TCP",
        ip: x.hostIP || "0.0.0.0",
      }))
      .filter((x) => x.port);
  const wanted = ports(pod);
  if (!wanted.length) return undefined;
  for (const other of podsOnNode) {
    if (other.metadata?.uid === pod.metadata?.uid) continue;
    for (const u of ports(other)) {
      const clash = wanted.find(
        (w) =>
          u.port === w.port &&
          u.protocol === w.protocol &&
          (u.ip === w.ip || u.ip === "0.0.0.0" || w.ip === "0.0.0.0"),
      );
      if (clash)
        return `${clash.port}/${clash.protocol} is in use by pod ${other.metadata?.namespace ?? "default"}/${other.metadata?.name ?? ""}`;
    }
  }
  return undefined;
}

/** Kubernetes' Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Pick<Taint, "key" | "value" | "effect">): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== "Exists") return false;
  return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
}
