import type { Deployment } from "kubernetes-types/apps/v1";
import { scaledValue } from "./int-or-percent.ts";

/**
 * The numbers a rolling update is bounded by (Kubernetes' ResolveFenceposts): maxSurge rounds
 * up, maxUnavailable rounds down, and both zero would stall, so unavailable becomes 1.
 */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? "25%", desired, true);
  let unavailable = scaledValue(maxUnavailable ?? "25%", desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

export function desiredReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** Pods that may be unavailable during an update (0 for Recreate), never more than desired. */
export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  const r = d.spec?.strategy?.rollingUpdate;
  return Math.min(resolveFenceposts(r?.maxSurge, r?.maxUnavailable, desired).unavailable, desired);
}

/** Pods above desired that may exist during an update (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const r = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(r?.maxSurge, r?.maxUnavailable, desiredReplicas(d)).surge;
}

/**
 * Replicas the new ReplicaSet should have next (Kubernetes' NewRSNewReplicas for RollingUpdate):
 * grow while the total stays within desired + maxSurge.
 */
export function newReplicaSetReplicas(
  desired: number,
  surge: number,
  newReplicas: number,
  totalReplicas: number,
): number {
  const maxTotal = desired + surge;
  if (totalReplicas >= maxTotal) return newReplicas;
  const scaleUp = Math.min(maxTotal - totalReplicas, desired - newReplicas);
  return newReplicas + Math.max(0, scaleUp);
}

/**
 * How many old pods may go now (Kubernetes' reconcileOldReplicaSets bound): keep at least
 * desired - maxUnavailable available, counting the new ReplicaSet's not-yet-available pods as
 * already unavailable.
 */
export function maxScaledDown(
  totalReplicas: number,
  desired: number,
  unavailable: number,
  newSpecReplicas: number,
  newAvailable: number,
): number {
  const minAvailable = desired - unavailable;
  const newUnavailable = newSpecReplicas - newAvailable;
  return totalReplicas - minAvailable - newUnavailable;
}
