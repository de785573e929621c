import type { DeploymentCondition } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { ReconcileResult } from "./controller.ts";
import { type Deploy, type RS, replicasOf, sumReplicas } from "./deployment-replicasets.ts";
import { controllerRef, type Kube } from "./owner-references.ts";
import { isPodTerminal } from "./pods.ts";
import { proportionalScale } from "./proportional-scale.ts";
import {
  desiredReplicas,
  isRollingUpdate,
  maxScaledDown,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
} from "./rollout-math.ts";

/**
 * The deployment strategies (Kubernetes' rolling.go, recreate.go, sync.go): which ReplicaSet to
 * resize and by how much. The controller supplies the writes through RolloutOps.
 */

/** One reconcile's view of a Deployment and its ReplicaSets, updated as it writes. */
export interface State {
  d: Deploy;
  newRS?: RS;
  oldRSs: RS[];
  /** A condition to set on this sync (NewReplicaSetCreated, FoundNewReplicaSet). */
  condition?: DeploymentCondition;
}

export interface RolloutOps {
  /** Splits new from old, syncs revisions, creates the new ReplicaSet when `create`. */
  findReplicaSets(s: State, create: boolean): Promise<void>;
  /** Resizes one ReplicaSet; true when its size changed. */
  scaleReplicaSet(s: State, rs: RS, replicas: number): Promise<boolean>;
  /** Writes status; `rollout` moves Progressing; `mayCleanup` prunes history when complete. */
  syncStatus(s: State, rollout: boolean, mayCleanup?: boolean): Promise<ReconcileResult | undefined>;
  cleanupOldReplicaSets(s: State): Promise<void>;
  podsIn(namespace: string): Kube<Pod>[];
}

export function allRSs(s: State): RS[] {
  return s.newRS ? [s.newRS, ...s.oldRSs] : s.oldRSs;
}

/** RollingUpdate: grow the new ReplicaSet within maxSurge, shrink old ones within maxUnavailable. */
export async function rolloutRolling(ops: RolloutOps, s: State) {
  await ops.findReplicaSets(s, true);
  if (await reconcileNewReplicaSet(ops, s)) return ops.syncStatus(s, true);
  if (await reconcileOldReplicaSets(ops, s)) return ops.syncStatus(s, true);
  return ops.syncStatus(s, true, true);
}

async function reconcileNewReplicaSet(ops: RolloutOps, s: State): Promise<boolean> {
  const rs = s.newRS!;
  const want = desiredReplicas(s.d);
  const have = replicasOf(rs);
  if (have === want) return false;
  if (have > want) return ops.scaleReplicaSet(s, rs, want);
  // An old ReplicaSet scaled down may still have its pods: count what exists, so the surge holds
  // for pods and not only for specs.
  const current = sumReplicas(allRSs(s), (x) => Math.max(replicasOf(x), x.status?.replicas ?? 0));
  return ops.scaleReplicaSet(s, rs, newReplicaSetReplicas(want, maxSurge(s.d), have, current));
}

async function reconcileOldReplicaSets(ops: RolloutOps, s: State): Promise<boolean> {
  if (sumReplicas(s.oldRSs) === 0) return false;
  const want = desiredReplicas(s.d);
  const newRS = s.newRS!;
  const budget = maxScaledDown(
    sumReplicas(allRSs(s)),
    want,
    maxUnavailable(s.d),
    replicasOf(newRS),
    newRS.status?.availableReplicas ?? 0,
  );
  if (budget <= 0) return false;
  // Unhealthy old pods go first: removing them costs no availability.
  let cleaned = 0;
  for (const rs of [...s.oldRSs]) {
    if (cleaned >= budget) break;
    const unhealthy = replicasOf(rs) - (rs.status?.availableReplicas ?? 0);
    if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
    const n = Math.min(budget - cleaned, unhealthy);
    await ops.scaleReplicaSet(s, rs, replicasOf(rs) - n);
    cleaned += n;
  }
  // Then healthy ones, as long as desired - maxUnavailable stay available.
  const minAvailable = want - maxUnavailable(s.d);
  const available = sumReplicas(allRSs(s), (rs) => rs.status?.availableReplicas ?? 0);
  let scaled = 0;
  const room = available - minAvailable;
  for (const rs of [...s.oldRSs]) {
    if (scaled >= room) break;
    if (replicasOf(rs) === 0) continue;
    const n = Math.min(replicasOf(rs), room - scaled);
    await ops.scaleReplicaSet(s, rs, replicasOf(rs) - n);
    scaled += n;
  }
  return cleaned + scaled > 0;
}

/** Recreate: all old pods go, then the new ReplicaSet gets every replica. */
export async function rolloutRecreate(ops: RolloutOps, s: State) {
  await ops.findReplicaSets(s, false);
  let scaledDown = false;
  for (const rs of [...s.oldRSs])
    if (replicasOf(rs) > 0) scaledDown = (await ops.scaleReplicaSet(s, rs, 0)) || scaledDown;
  if (scaledDown || oldPodsRunning(ops, s)) return ops.syncStatus(s, true);
  if (!s.newRS) await ops.findReplicaSets(s, true);
  else await ops.scaleReplicaSet(s, s.newRS, desiredReplicas(s.d));
  return ops.syncStatus(s, true, true);
}

/** Recreate starts new pods only once no old pod is left (terminating ones included). */
function oldPodsRunning(ops: RolloutOps, s: State): boolean {
  if (s.oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
  const old = new Set(s.oldRSs.map((rs) => rs.metadata.uid));
  return ops
    .podsIn(s.d.metadata.namespace ?? "")
    .some((p) => old.has(controllerRef(p)?.uid) && !isPodTerminal(p));
}

/** Scaling (or a paused Deployment): resize ReplicaSets without rolling anything out. */
export async function scaleDeployment(ops: RolloutOps, s: State) {
  await ops.findReplicaSets(s, false);
  const all = allRSs(s);
  const want = desiredReplicas(s.d);
  const active = all.filter((rs) => replicasOf(rs) > 0);
  const single =
    active.length === 1 ? active[0] : active.length === 0 ? (s.newRS ?? s.oldRSs.at(-1)) : undefined;
  if (single) await ops.scaleReplicaSet(s, single, want);
  else if (s.newRS && replicasOf(s.newRS) === want && (s.newRS.status?.availableReplicas ?? 0) === want) {
    for (const rs of [...s.oldRSs]) await ops.scaleReplicaSet(s, rs, 0);
  } else if (isRollingUpdate(s.d) && active.length > 1) {
    const allowed = want > 0 ? want + maxSurge(s.d) : 0;
    const sizes = proportionalScale(
      active.map((rs) => ({ uid: rs.metadata.uid!, replicas: replicasOf(rs), isNew: rs === s.newRS })),
      allowed,
    );
    for (const rs of active) await ops.scaleReplicaSet(s, rs, sizes.get(rs.metadata.uid!) ?? replicasOf(rs));
  }
  if (s.d.spec?.paused) await ops.cleanupOldReplicaSets(s);
  return ops.syncStatus(s, false);
}
