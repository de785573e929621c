import type { StatefulSetStatus } from "kubernetes-types/apps/v1";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import {
  ensureUpdateRevision,
  ownedRevisions,
  pruneRevisions,
  REVISION_HASH_LABEL,
  type Revision,
  templateOf,
} from "./controller-revisions.ts";
import { omitZeros } from "./omit-empty.ts";
import { controllerRef, isControlledBy, type Kube } from "./owner-references.ts";
import { claimPods } from "./pod-adoption.ts";
import { isPodAvailable, isPodReady, isPodTerminal, msUntilAvailable } from "./pods.ts";
import { BURST_REPLICAS, forEachInSlowStart } from "./slow-start.ts";
import { claimsFor, newPod, ordinalOf, type Sts } from "./statefulset-pods.ts";

type P = Kube<Pod>;
type Claim = Kube<PersistentVolumeClaim>;

/** Pods the controller waits for one at a time: Running and Ready, not being deleted. */
function isHealthy(pod: P): boolean {
  return pod.status?.phase === "Running" && isPodReady(pod) && !pod.metadata.deletionTimestamp;
}

/**
 * Kubernetes' StatefulSet controller: pods `<set>-0 … <set>-(n-1)` created in order (OrderedReady:
 * each waits for the one before to be Running and Ready; Parallel: all at once), their claims
 * made from volumeClaimTemplates first, removed from the highest ordinal down, and updated from
 * the highest ordinal down to the partition (RollingUpdate) or when deleted (OnDelete), with a
 * ControllerRevision per template.
 */
export function createStatefulSetController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const sets = informers.for<Sts>("statefulsets.apps");
  const pods = informers.for<P>("pods");
  const claims = informers.for<Claim>("persistentvolumeclaims");
  const revisions = informers.for<Revision>("controllerrevisions.apps");
  const recorder = ctx.events("statefulset-controller");

  const controller = createController({
    name: "statefulset",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => sets.list().map(keyOf) },
  });
  sets.onEvent((e) => controller.enqueue(keyOf(e.object)));
  const byOwner = (obj: Kube<object>) => {
    const ref = controllerRef(obj);
    if (ref?.kind === "StatefulSet") controller.enqueue(`${obj.metadata.namespace}/${ref.name}`);
  };
  pods.onEvent((e) => {
    byOwner(e.object);
    if (e.old) byOwner(e.old);
    if (!controllerRef(e.object) && e.type !== "DELETED") {
      // An orphan: a set whose selector it matches may adopt it.
      for (const sts of sets.list(e.object.metadata.namespace))
        if (labelSelectorMatches(sts.spec?.selector, e.object.metadata.labels))
          controller.enqueue(keyOf(sts));
    }
  });
  revisions.onEvent((e) => byOwner(e.object));
  claims.onEvent((e) => {
    // A claim going away may unblock a pod waiting to recreate it.
    if (e.type === "DELETED")
      for (const sts of sets.list(e.object.metadata.namespace)) controller.enqueue(keyOf(sts));
  });

  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const sts = sets.get(namespace, name);
    if (!sts || sts.metadata.deletionTimestamp) return;
    const update = await ensureUpdateRevision(client, revisions, sts);
    const owned = ownedRevisions(revisions, sts);
    const current = owned.find((r) => r.metadata.name === sts.status?.currentRevision) ?? update;
    const mine = await claimPods(
      client,
      pods,
      sts,
      (p) => labelSelectorMatches(sts.spec?.selector, p.metadata.labels) && ordinalOf(sts, p) >= 0,
    );
    let error: unknown;
    try {
      await sync(sts, mine, current, update);
    } catch (e) {
      error = e;
    }
    const now = pods.list(namespace).filter((p) => isControlledBy(p, sts));
    await writeStatus(sts, now, current, update);
    const live = new Set([current.metadata.name!, update.metadata.name!]);
    for (const p of now) live.add(p.metadata.labels?.[REVISION_HASH_LABEL] ?? "");
    await pruneRevisions(client, revisions, sts, live);
    if (error) throw error;
    const waits = now
      .map((p) => msUntilAvailable(p, sts.spec?.minReadySeconds ?? 0, clock.now()))
      .filter((x) => x !== undefined);
    return waits.length ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }

  /** One step towards the spec; returns after any action an ordered set must wait on. */
  async function sync(sts: Sts, mine: P[], current: Revision, update: Revision): Promise<void> {
    const start = sts.spec?.ordinals?.start ?? 0;
    const replicas = sts.spec?.replicas ?? 1;
    const end = start + replicas;
    const ordered = sts.spec?.podManagementPolicy !== "Parallel";
    const strategy = sts.spec?.updateStrategy;
    const partition = strategy?.type === "OnDelete" ? 0 : (strategy?.rollingUpdate?.partition ?? 0);
    const byOrdinal = new Map<number, P>();
    const condemned: P[] = [];
    for (const p of mine) {
      const ord = ordinalOf(sts, p);
      if (ord >= start && ord < end) byOrdinal.set(ord, p);
      else condemned.push(p);
    }

    // A finished pod is replaced (deleted, then recreated with the same name).
    for (const p of byOrdinal.values()) {
      if (isPodTerminal(p) && !p.metadata.deletionTimestamp) {
        await deletePod(
          sts,
          p,
          `StatefulSet ${sts.metadata.name} Pod ${p.metadata.name} has phase ${p.status?.phase}, recreating`,
        );
        if (ordered) return;
      }
    }

    const create = async (ord: number) => {
      const atCurrent = strategy?.type !== "OnDelete" && ord < start + partition;
      const rev = atCurrent ? current : update;
      await ensureClaims(sts, ord);
      await createPod(sts, newPod(sts, ord, templateOf(rev), rev.metadata.name!));
    };
    // Parallel sets create the missing pods in slow-start batches, at most a burst per reconcile
    // (the created pods' events bring the next); ordered sets one at a time, each once the
    // one before is healthy.
    const missing: number[] = [];
    for (let ord = start; ord < end && missing.length < BURST_REPLICAS; ord++) {
      const pod = byOrdinal.get(ord);
      if (!pod && ordered) return create(ord);
      if (!pod) missing.push(ord);
      else if (ordered && !isHealthy(pod)) return;
    }
    await forEachInSlowStart(missing, create);

    // Scale down: highest ordinal first; ordered sets one at a time, once the rest is healthy.
    condemned.sort((a, b) => ordinalOf(sts, b) - ordinalOf(sts, a));
    const scaleDown = async (pod: P) => {
      await condemnClaims(sts, pod);
      await deletePod(sts, pod);
    };
    if (!ordered) {
      await forEachInSlowStart(
        condemned.filter((p) => !p.metadata.deletionTimestamp),
        scaleDown,
      );
    } else if (condemned.length) {
      const pod = condemned[0]!;
      if ([...byOrdinal.values()].some((p) => !isHealthy(p)) || byOrdinal.size < replicas) return;
      if (!pod.metadata.deletionTimestamp) await scaleDown(pod);
    }
    if (condemned.length) return;

    // RollingUpdate: from the highest ordinal down to the partition, one pod at a time.
    if (strategy?.type === "OnDelete") return;
    for (let ord = end - 1; ord >= start + partition; ord--) {
      const pod = byOrdinal.get(ord);
      if (!pod || !isHealthy(pod)) return;
      if (pod.metadata.labels?.[REVISION_HASH_LABEL] !== update.metadata.name) {
        await deletePod(sts, pod);
        return;
      }
    }
  }

  async function ensureClaims(sts: Sts, ordinal: number): Promise<void> {
    for (const claim of claimsFor(sts, ordinal)) {
      const existing = claims.get(claim.metadata.namespace!, claim.metadata.name!);
      if (existing?.metadata.deletionTimestamp) {
        throw new Error(
          `pvc ${claim.metadata.name} is being deleted; waiting for it to go before recreating it`,
        );
      }
      if (existing) continue;
      try {
        const created = await client.create<Claim>("persistentvolumeclaims", claim);
        claims.observe(created);
        recorder.record(
          sts,
          "Normal",
          "SuccessfulCreate",
          `create Claim ${claim.metadata.name} Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} success`,
        );
      } catch (e) {
        if (isApiError(e, "AlreadyExists")) continue;
        recorder.record(
          sts,
          "Warning",
          "FailedCreate",
          `create Claim ${claim.metadata.name} for Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} failed error: ${(e as Error).message}`,
        );
        throw e;
      }
    }
  }

  /** whenScaled: Delete — the claims of a removed ordinal are owned by its pod, so they go with it. */
  async function condemnClaims(sts: Sts, pod: P): Promise<void> {
    if (sts.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled !== "Delete") return;
    for (const want of claimsFor(sts, ordinalOf(sts, pod))) {
      const claim = claims.get(want.metadata.namespace!, want.metadata.name!);
      if (!claim || claim.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
      const ref = { apiVersion: "v1", kind: "Pod", name: pod.metadata.name!, uid: pod.metadata.uid! };
      const updated = await client.update<Claim>("persistentvolumeclaims", {
        ...claim,
        // Owned by the pod alone (not the set), so the garbage collector takes it with the pod.
        metadata: {
          ...claim.metadata,
          ownerReferences: [
            ...(claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== sts.metadata.uid),
            ref,
          ],
        },
      });
      claims.observe(updated);
    }
  }

  async function createPod(sts: Sts, pod: P): Promise<void> {
    try {
      const created = await client.create<P>("pods", pod);
      pods.observe(created);
      recorder.record(
        sts,
        "Normal",
        "SuccessfulCreate",
        `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
      );
    } catch (e) {
      recorder.record(
        sts,
        "Warning",
        "FailedCreate",
        `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} failed error: ${(e as Error).message}`,
      );
      throw e;
    }
  }

  async function deletePod(sts: Sts, pod: P, why?: string): Promise<void> {
    if (why) recorder.record(sts, "Warning", "RecreatingFailedPod", why);
    const gone = await client.delete<P>("pods", pod.metadata.namespace!, pod.metadata.name!, {
      preconditions: { uid: pod.metadata.uid },
    });
    pods.observeDeleted(gone ?? pod);
    recorder.record(
      sts,
      "Normal",
      "SuccessfulDelete",
      `delete Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
    );
  }

  async function writeStatus(sts: Sts, mine: P[], current: Revision, update: Revision): Promise<void> {
    const active = mine.filter((p) => !isPodTerminal(p));
    const at = (rev: Revision) =>
      active.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === rev.metadata.name).length;
    const replicas = sts.spec?.replicas ?? 1;
    const minReady = sts.spec?.minReadySeconds ?? 0;
    const ready = active.filter(isPodReady).length;
    let currentRevision = current.metadata.name!;
    let currentReplicas = at(current);
    const updatedReplicas = at(update);
    // A finished rollout: every pod at the update revision and ready.
    if (updatedReplicas === replicas && active.length === replicas && ready === replicas) {
      currentRevision = update.metadata.name!;
      currentReplicas = updatedReplicas;
    }
    const status: StatefulSetStatus = omitZeros(
      {
        observedGeneration: sts.metadata.generation,
        replicas: active.length,
        readyReplicas: ready,
        currentReplicas,
        updatedReplicas,
        availableReplicas: active.filter((p) => isPodAvailable(p, minReady, clock.now())).length,
        currentRevision,
        updateRevision: update.metadata.name,
        collisionCount: 0,
      },
      ["replicas", "availableReplicas", "collisionCount"],
    );
    if (deepEqual(status, sts.status ?? {})) return;
    const updated = await client.updateStatus<Sts>("statefulsets.apps", { ...sts, status });
    sets.observe(updated);
  }
}
