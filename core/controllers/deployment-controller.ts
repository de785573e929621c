import type { DeploymentStatus } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { getCondition } from "../conditions.ts";
import { isApiError } from "../errors.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import {
  byCreation,
  DESIRED_REPLICAS,
  type Deploy,
  findNewReplicaSet,
  newReplicaSetFor,
  REVISION,
  type RS,
  replicaSetAnnotations,
  replicasAnnotations,
  replicasOf,
  revisionOf,
  sumReplicas,
} from "./deployment-replicasets.ts";
import {
  allRSs,
  type RolloutOps,
  rolloutRecreate,
  rolloutRolling,
  type State,
  scaleDeployment,
} from "./deployment-rollout.ts";
import {
  calculateStatus,
  isComplete,
  msUntilDeadline,
  Reason,
  setDeploymentCondition,
  updateProgressing,
} from "./deployment-status.ts";
import { controllerRef, isControlledBy, type Kube, ownerReferenceTo } from "./owner-references.ts";
import { equalIgnoreHash } from "./pod-template-hash.ts";
import { desiredReplicas, isRollingUpdate, maxSurge, newReplicaSetReplicas } from "./rollout-math.ts";

/**
 * Rolls Deployments out through ReplicaSets, as Kubernetes' deployment controller does: one
 * ReplicaSet per pod template (`<name>-<pod-template-hash>`), scaled by the RollingUpdate or
 * Recreate strategy, old ones kept up to revisionHistoryLimit, status and conditions published.
 */
export function createDeploymentController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const deployments = informers.for<Deploy>("deployments.apps");
  const replicaSets = informers.for<RS>("replicasets.apps");
  const pods = informers.for<Kube<Pod>>("pods");
  const recorder = ctx.events("deployment-controller");

  const controller = createController({
    name: "deployment",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => deployments.list().map(keyOf) },
  });

  deployments.onEvent((e) => controller.enqueue(keyOf(e.object)));
  replicaSets.onEvent((e) => {
    for (const rs of e.old ? [e.old, e.object] : [e.object]) {
      const ref = controllerRef(rs);
      const ns = rs.metadata.namespace ?? "";
      if (ref?.kind === "Deployment") controller.enqueue(`${ns}/${ref.name}`);
      else if (!ref && e.type !== "DELETED") {
        for (const d of deployments.list(ns))
          if (labelSelectorMatches(d.spec?.selector, rs.metadata.labels)) controller.enqueue(keyOf(d));
      }
    }
  });
  // Recreate waits for old pods to be gone, so their removal must wake the Deployment.
  pods.onEvent((e) => {
    if (e.type !== "DELETED") return;
    const ref = controllerRef(e.object);
    if (ref?.kind !== "ReplicaSet") return;
    const rs = replicaSets.get(e.object.metadata.namespace ?? "", ref.name);
    const dref = rs && controllerRef(rs);
    if (dref?.kind === "Deployment") controller.enqueue(`${rs!.metadata.namespace}/${dref.name}`);
  });

  const ops: RolloutOps = {
    findReplicaSets,
    scaleReplicaSet,
    syncStatus,
    cleanupOldReplicaSets,
    podsIn: (namespace) => pods.list(namespace),
  };
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const d = deployments.get(namespace, name);
    if (!d) return;
    const s: State = { d, oldRSs: await claimReplicaSets(d) };
    if (d.metadata.deletionTimestamp) {
      s.newRS = findNewReplicaSet(d, s.oldRSs);
      s.oldRSs = s.oldRSs.filter((rs) => rs !== s.newRS);
      return syncStatus(s, false);
    }
    if (d.spec?.paused || isScalingEvent(s)) return scaleDeployment(ops, s);
    return isRollingUpdate(d) ? rolloutRolling(ops, s) : rolloutRecreate(ops, s);
  }

  /** ReplicaSets this Deployment controls, after adopting matching orphans and releasing strays. */
  async function claimReplicaSets(d: Deploy): Promise<RS[]> {
    const owned: RS[] = [];
    for (const rs of replicaSets.list(d.metadata.namespace)) {
      const ref = controllerRef(rs);
      const matches = labelSelectorMatches(d.spec?.selector, rs.metadata.labels);
      if (ref?.uid === d.metadata.uid) {
        if (matches) owned.push(rs);
        else if (!rs.metadata.deletionTimestamp) {
          const refs = (rs.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid);
          replicaSets.observe(
            await client.update<RS>("replicasets.apps", {
              ...rs,
              metadata: { ...rs.metadata, ownerReferences: refs },
            }),
          );
        }
      } else if (!ref && matches && !d.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp) {
        const refs = [...(rs.metadata.ownerReferences ?? []), ownerReferenceTo(d)];
        const adopted = await client.update<RS>("replicasets.apps", {
          ...rs,
          metadata: { ...rs.metadata, ownerReferences: refs },
        });
        replicaSets.observe(adopted);
        owned.push(adopted);
      }
    }
    return owned;
  }

  /** Some active ReplicaSet was sized for a different replica count than the spec now asks. */
  function isScalingEvent(s: State): boolean {
    const want = String(desiredReplicas(s.d));
    return s.oldRSs.some(
      (rs) => replicasOf(rs) > 0 && (rs.metadata.annotations?.[DESIRED_REPLICAS] ?? want) !== want,
    );
  }

  /**
   * Splits the claimed ReplicaSets into new and old, syncs the new one's revision annotations
   * and the Deployment's revision, and creates the new one if asked to.
   */
  async function findReplicaSets(s: State, create: boolean): Promise<void> {
    const all = s.newRS ? [s.newRS, ...s.oldRSs] : s.oldRSs;
    const found = findNewReplicaSet(s.d, all);
    s.oldRSs = all.filter((rs) => rs !== found).sort(byCreation);
    const revision = Math.max(0, ...s.oldRSs.map(revisionOf)) + 1;
    if (found) {
      const annotations = replicaSetAnnotations(s.d, found, revision);
      const minReady = s.d.spec?.minReadySeconds ?? 0;
      if (
        !deepEqual(annotations, found.metadata.annotations ?? {}) ||
        (found.spec?.minReadySeconds ?? 0) !== minReady
      ) {
        s.newRS = await writeReplicaSet({
          ...found,
          metadata: { ...found.metadata, annotations },
          spec: { ...found.spec!, minReadySeconds: minReady },
        });
      } else s.newRS = found;
      if (!getCondition(s.d.status?.conditions, "Progressing")) {
        s.condition = {
          type: "Progressing",
          status: "True",
          reason: Reason.FoundNewReplicaSet,
          message: `Found new replica set "${found.metadata.name}"`,
        };
      }
    } else if (create) {
      s.newRS = await createNewReplicaSet(s, revision);
    } else s.newRS = undefined;
    if (s.newRS) {
      const rev = String(revisionOf(s.newRS));
      if (s.d.metadata.annotations?.[REVISION] !== rev) {
        const annotations = { ...s.d.metadata.annotations, [REVISION]: rev };
        s.d = await client.update<Deploy>("deployments.apps", {
          ...s.d,
          metadata: { ...s.d.metadata, annotations },
        });
        deployments.observe(s.d);
      }
    }
  }

  async function createNewReplicaSet(s: State, revision: number): Promise<RS> {
    const d = s.d;
    const want = desiredReplicas(d);
    const replicas = isRollingUpdate(d)
      ? newReplicaSetReplicas(want, maxSurge(d), 0, sumReplicas(s.oldRSs))
      : want;
    const rs = newReplicaSetFor(d, replicas, revision);
    let created: RS;
    try {
      created = await client.create<RS>("replicasets.apps", rs);
    } catch (e) {
      if (!isApiError(e, "AlreadyExists")) throw e;
      const existing = await client.get<RS>(
        "replicasets.apps",
        d.metadata.namespace ?? "",
        rs.metadata.name!,
      );
      if (isControlledBy(existing, d) && equalIgnoreHash(existing.spec?.template, d.spec?.template)) {
        replicaSets.observe(existing);
        return existing;
      }
      // A hash collision with someone else's ReplicaSet: count it, so the next hash differs.
      const status = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
      deployments.observe(await client.updateStatus<Deploy>("deployments.apps", { ...d, status }));
      throw e;
    }
    replicaSets.observe(created);
    if (replicas > 0) recordScaling(d, created, 0, replicas);
    s.condition = {
      type: "Progressing",
      status: "True",
      reason: Reason.NewReplicaSetCreated,
      message: `Created new replica set "${created.metadata.name}"`,
    };
    return created;
  }

  async function writeReplicaSet(rs: RS): Promise<RS> {
    const updated = await client.update<RS>("replicasets.apps", rs);
    replicaSets.observe(updated);
    return updated;
  }

  function recordScaling(d: Deploy, rs: RS, from: number, to: number): void {
    const verb = to > from ? "up" : "down";
    recorder.record(
      d,
      "Normal",
      "ScalingReplicaSet",
      `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${to}`,
    );
  }

  /** Sets a ReplicaSet's size (and desired/max annotations); true when the size changed. */
  async function scaleReplicaSet(s: State, rs: RS, replicas: number): Promise<boolean> {
    const from = replicasOf(rs);
    const annotations = { ...rs.metadata.annotations, ...replicasAnnotations(s.d) };
    if (from === replicas && deepEqual(annotations, rs.metadata.annotations ?? {})) return false;
    const updated = await writeReplicaSet({
      ...rs,
      metadata: { ...rs.metadata, annotations },
      spec: { ...rs.spec!, replicas },
    });
    if (s.newRS?.metadata.uid === updated.metadata.uid) s.newRS = updated;
    s.oldRSs = s.oldRSs.map((x) => (x.metadata.uid === updated.metadata.uid ? updated : x));
    if (from !== replicas) recordScaling(s.d, updated, from, replicas);
    return from !== replicas;
  }

  /** Deletes old, empty ReplicaSets beyond revisionHistoryLimit, lowest revision first. */
  async function cleanupOldReplicaSets(s: State): Promise<void> {
    const limit = s.d.spec?.revisionHistoryLimit ?? 10;
    const empty = s.oldRSs
      .filter(
        (rs) => replicasOf(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) {
      try {
        const gone = await client.delete<RS>(
          "replicasets.apps",
          rs.metadata.namespace ?? "",
          rs.metadata.name!,
          {
            preconditions: { uid: rs.metadata.uid },
          },
        );
        replicaSets.observeDeleted(gone ?? rs);
      } catch (e) {
        if (!isApiError(e, "NotFound")) throw e;
      }
      s.oldRSs = s.oldRSs.filter((x) => x !== rs);
    }
  }

  /**
   * Writes status computed from the ReplicaSets. `rollout` also moves the Progressing
   * condition; `mayCleanup` prunes history once the rollout is complete.
   */
  async function syncStatus(s: State, rollout: boolean, mayCleanup = false) {
    const now = clock.now();
    const nowText = timestamp(clock);
    const status: DeploymentStatus = calculateStatus(s.d, allRSs(s), s.newRS, nowText);
    if (s.condition) setDeploymentCondition(status, s.condition, nowText);
    if (rollout) updateProgressing(s.d, status, s.newRS, now, nowText);
    pausedConditions(s, status, nowText);
    if (mayCleanup && isComplete(s.d, status)) await cleanupOldReplicaSets(s);
    if (!deepEqual(status, s.d.status ?? {})) {
      s.d = await client.updateStatus<Deploy>("deployments.apps", { ...s.d, status });
      deployments.observe(s.d);
    }
    const left = rollout ? msUntilDeadline(s.d, status, now) : undefined;
    return left !== undefined && !isComplete(s.d, status)
      ? { requeueAfterMs: Math.max(0, left) + 50 }
      : undefined;
  }

  function pausedConditions(s: State, status: DeploymentStatus, now: string): void {
    if (s.d.spec?.progressDeadlineSeconds === undefined) return;
    const reason = getCondition(status.conditions, "Progressing")?.reason;
    if (s.d.spec.paused && reason !== Reason.DeploymentPaused) {
      setDeploymentCondition(
        status,
        {
          type: "Progressing",
          status: "Unknown",
          reason: Reason.DeploymentPaused,
          message: "Deployment is paused",
        },
        now,
      );
    } else if (!s.d.spec.paused && reason === Reason.DeploymentPaused) {
      setDeploymentCondition(
        status,
        {
          type: "Progressing",
          status: "Unknown",
          reason: Reason.DeploymentResumed,
          message: "Deployment is resumed",
        },
        now,
      );
    }
  }
}
