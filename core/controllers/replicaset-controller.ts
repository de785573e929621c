import type { ReplicaSet, ReplicaSetStatus } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { OwnerReference } from "kubernetes-types/meta/v1";
import { removeCondition, setCondition } from "../conditions.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { labelSelectorFromObject, labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import { omitZeros } from "./omit-empty.ts";
import { controllerRef, type Kube, ownerReferenceTo } from "./owner-references.ts";
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, readySince } from "./pods.ts";
import { BURST_REPLICAS, createPodsInSlowStart, slowStartBatch } from "./slow-start.ts";

/**
 * Keeps `spec.replicas` pods of each ReplicaSet: adopts orphans that match its selector, releases
 * pods that no longer match, creates pods from the template or deletes the most expendable ones,
 * and publishes counts in status.
 */
export function createReplicaSetController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const replicaSets = informers.for<Kube<ReplicaSet>>("replicasets.apps");
  const pods = informers.for<Kube<Pod>>("pods");
  const recorder = ctx.events("replicaset-controller");

  const controller = createController({
    name: "replicaset",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => replicaSets.list().map(keyOf) },
  });

  replicaSets.onEvent((e) => controller.enqueue(keyOf(e.object)));
  pods.onEvent((e) => {
    // A change the ReplicaSet cannot see (the scheduler's verdict on a pending pod) is no reason to
    // re-count thousands of pods.
    if (e.type === "MODIFIED" && e.old && !countedChange(e.old, e.object)) return;
    for (const pod of e.old ? [e.old, e.object] : [e.object]) {
      const ref = controllerRef(pod);
      const ns = pod.metadata.namespace ?? "";
      if (ref?.kind === "ReplicaSet") controller.enqueue(`${ns}/${ref.name}`);
      else if (!ref && e.type !== "DELETED") {
        // An orphan: any ReplicaSet it matches may adopt it.
        for (const rs of replicaSets.list(ns)) {
          if (labelSelectorMatches(rs.spec?.selector, pod.metadata.labels)) controller.enqueue(keyOf(rs));
        }
      }
    }
  });

  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const rs = replicaSets.get(namespace, name);
    if (!rs) return; // deleted: the garbage collector removes its pods
    const owned = await claimPods(rs);
    let active = owned.filter(isPodActive);
    const want = rs.spec?.replicas ?? 1;
    let error: unknown;
    // Bounded work per pass: the pods' own events bring the key back for the rest.
    const diff = Math.min(Math.abs(want - active.length), BURST_REPLICAS);
    if (!rs.metadata.deletionTimestamp) {
      try {
        if (active.length < want) active = [...active, ...(await createPods(rs, diff))];
        else if (active.length > want) active = await deletePods(rs, active, diff);
      } catch (e) {
        error = e;
      }
    }
    await writeStatus(rs, active, error);
    if (error) throw error;
    if (!rs.metadata.deletionTimestamp && active.length !== want) return { requeueAfterMs: 0 };
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const waits = active
      .map((p) => msUntilAvailable(p, minReady, clock.now()))
      .filter((x) => x !== undefined);
    return waits.length ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }

  /** Pods this ReplicaSet controls after adopting matching orphans and releasing strays. */
  async function claimPods(rs: Kube<ReplicaSet>): Promise<Kube<Pod>[]> {
    const owned: Kube<Pod>[] = [];
    const selector = labelSelectorFromObject(rs.spec?.selector);
    for (const pod of pods.list(rs.metadata.namespace)) {
      const ref = controllerRef(pod);
      const matches = selector.matches(pod.metadata.labels);
      if (ref?.uid === rs.metadata.uid) {
        if (matches) owned.push(pod);
        else if (!pod.metadata.deletionTimestamp)
          await setOwners(pod, (refs) => refs.filter((r) => r.uid !== rs.metadata.uid));
      } else if (!ref && matches && isPodActive(pod) && !rs.metadata.deletionTimestamp) {
        owned.push(await setOwners(pod, (refs) => [...refs, ownerReferenceTo(rs)]));
      }
    }
    return owned;
  }

  async function setOwners(pod: Kube<Pod>, change: (refs: OwnerReference[]) => OwnerReference[]) {
    const refs = pod.metadata.ownerReferences ?? [];
    const next = { ...pod, metadata: { ...pod.metadata, ownerReferences: change(refs) } };
    const updated = await client.update<Kube<Pod>>("pods", next);
    pods.observe(updated);
    return updated;
  }

  function createPods(rs: Kube<ReplicaSet>, count: number): Promise<Kube<Pod>[]> {
    return createPodsInSlowStart(recorder, rs, count, async () => {
      const pod = await createPod(rs);
      pods.observe(pod);
      return pod;
    });
  }

  function createPod(rs: Kube<ReplicaSet>): Promise<Kube<Pod>> {
    const template = rs.spec?.template ?? {};
    // The registry appends 5 random characters; the base is cut to 58 like kube-apiserver does.
    const generateName = `${rs.metadata.name}-`.slice(0, 58);
    const pod: Kube<Pod> = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName,
        namespace: rs.metadata.namespace,
        labels: { ...template.metadata?.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [ownerReferenceTo(rs)],
      },
      spec: structuredClone(template.spec ?? { containers: [] }),
    };
    return client.create<Kube<Pod>>("pods", pod);
  }

  /** Deletes the `count` most expendable pods; returns the pods that stay. */
  async function deletePods(rs: Kube<ReplicaSet>, active: Kube<Pod>[], count: number): Promise<Kube<Pod>[]> {
    const doomed = [...active].sort(deletionOrder).slice(0, count);
    const gone = new Set<string | undefined>();
    const { failure } = await slowStartBatch(doomed.length, async (i) => {
      const pod = doomed[i]!;
      try {
        const deleted = await client.delete<Kube<Pod>>(
          "pods",
          pod.metadata.namespace ?? "",
          pod.metadata.name!,
          {
            preconditions: { uid: pod.metadata.uid },
          },
        );
        pods.observeDeleted(deleted ?? pod);
        gone.add(pod.metadata.uid);
        recorder.record(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        recorder.record(rs, "Warning", "FailedDelete", `Error deleting: ${message}`);
        throw e;
      }
    });
    if (failure) throw failure;
    return active.filter((p) => !gone.has(p.metadata.uid));
  }

  async function writeStatus(rs: Kube<ReplicaSet>, active: Kube<Pod>[], error: unknown): Promise<void> {
    const now = clock.now();
    // A failed create shows on the ReplicaSet (kubectl describe), until creating works again.
    const conditions = error
      ? setCondition(
          rs.status?.conditions,
          {
            type: "ReplicaFailure",
            status: "True",
            reason: "FailedCreate",
            message: error instanceof Error ? error.message : String(error),
          },
          timestamp(clock),
        )
      : removeCondition(rs.status?.conditions, "ReplicaFailure");
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {});
    const status: ReplicaSetStatus = omitZeros(
      {
        replicas: active.length,
        fullyLabeledReplicas: active.filter((p) =>
          templateLabels.every(([k, v]) => p.metadata.labels?.[k] === v),
        ).length,
        readyReplicas: active.filter(isPodReady).length,
        availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
        observedGeneration: rs.metadata.generation,
        ...(conditions.length ? { conditions } : {}),
      },
      ["replicas"],
    );
    if (deepEqual(status, rs.status ?? {})) return;
    const updated = await client.updateStatus<Kube<ReplicaSet>>("replicasets.apps", { ...rs, status });
    replicaSets.observe(updated);
  }
}

/** Whether a pod update changes what a ReplicaSet counts or owns. */
function countedChange(old: Kube<Pod>, pod: Kube<Pod>): boolean {
  return (
    isPodActive(old) !== isPodActive(pod) ||
    isPodReady(old) !== isPodReady(pod) ||
    !Object.is(readySince(old), readySince(pod)) ||
    old.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp ||
    !deepEqual(old.metadata.labels, pod.metadata.labels) ||
    !deepEqual(old.metadata.ownerReferences, pod.metadata.ownerReferences)
  );
}

/**
 * Which pod to delete first, as Kubernetes ranks them (controller.ActivePods): unscheduled
 * before scheduled, Pending before Unknown before Running, not ready before ready, lower
 * pod-deletion-cost first, ready for less time before longer, more restarts before fewer,
 * newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const scheduled = (p: Pod) => (p.spec?.nodeName ? 1 : 0);
  if (scheduled(a) !== scheduled(b)) return scheduled(a) - scheduled(b);
  const phaseRank = (p: Pod) => ({ Pending: 0, Unknown: 1, Running: 2 })[p.status?.phase ?? "Pending"] ?? 0;
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  const cost = (p: Pod) =>
    Number(p.metadata?.annotations?.["controller.kubernetes.io/pod-deletion-cost"] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  if (ready(a) && ready(b)) {
    const ra = readySince(a);
    const rb = readySince(b);
    if (ra !== rb && !Number.isNaN(ra) && !Number.isNaN(rb)) return rb - ra;
  }
  const restarts = (p: Pod) =>
    Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? "") || 0;
  return created(b) - created(a);
}
