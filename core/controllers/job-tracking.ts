import type { Job, UncountedTerminatedPods } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { Client } from "../seams/client.ts";
import type { Kube } from "./owner-references.ts";

/**
 * Job tracking with finalizers, as Kubernetes 1.26+ does it: every pod a Job creates carries
 * `batch.kubernetes.io/job-tracking`, so a finished pod cannot vanish before the controller has
 * counted it. Counting is two writes: the pod's uid goes into status.uncountedTerminatedPods, the
 * finalizer comes off, then the uid moves into status.succeeded/failed. A crash between the steps
 * repeats a step, never a count.
 */
export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";

type P = Kube<Pod>;

export function hasTrackingFinalizer(pod: Pod): boolean {
  return !!pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER);
}

/**
 * Whether a pod counts as failed, as upstream's isPodFailed: its phase says so, or (without a
 * podFailurePolicy and unless only Failed pods are replaced) it is being deleted before it
 * succeeded, since an orphaned or evicted pod may never reach the Failed phase.
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === "Failed") return true;
  if (job.spec?.podFailurePolicy || job.spec?.podReplacementPolicy === "Failed") return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== "Succeeded";
}

/** The uids already recorded as finished but not yet in the counters. */
export interface Uncounted {
  succeeded: Set<string>;
  failed: Set<string>;
}

export function uncountedOf(job: Job): Uncounted {
  const u = job.status?.uncountedTerminatedPods;
  return { succeeded: new Set(u?.succeeded ?? []), failed: new Set(u?.failed ?? []) };
}

export function isUncounted(u: Uncounted, uid: string): boolean {
  return u.succeeded.has(uid) || u.failed.has(uid);
}

/** The status form: omitted lists when empty, as the API server prunes them. */
export function uncountedStatus(u: Uncounted): UncountedTerminatedPods {
  return {
    ...(u.succeeded.size ? { succeeded: [...u.succeeded] } : {}),
    ...(u.failed.size ? { failed: [...u.failed] } : {}),
  };
}

/**
 * Moves every uncounted uid whose pod no longer holds the finalizer (or is gone) into the
 * counters; returns the counts it added.
 */
export function flushUncounted(
  u: Uncounted,
  stillTracked: Set<string>,
): { succeeded: number; failed: number } {
  const moved = { succeeded: 0, failed: 0 };
  for (const key of ["succeeded", "failed"] as const) {
    for (const uid of u[key]) {
      if (stillTracked.has(uid)) continue;
      u[key].delete(uid);
      moved[key]++;
    }
  }
  return moved;
}

/**
 * Takes the finalizer off a pod (a JSON patch that tests the entry first, so a concurrent
 * change of the list fails instead of removing the wrong one). A pod already gone is fine.
 */
export async function removeTrackingFinalizer(client: Client, pod: P): Promise<P | undefined> {
  const at = pod.metadata.finalizers?.indexOf(JOB_TRACKING_FINALIZER) ?? -1;
  if (at < 0) return pod;
  const path = `/metadata/finalizers/${at}`;
  try {
    return await client.patch<P>("pods", pod.metadata.namespace ?? "", pod.metadata.name!, "json", [
      { op: "test", path: "/metadata/uid", value: pod.metadata.uid },
      { op: "test", path, value: JOB_TRACKING_FINALIZER },
      { op: "remove", path },
    ]);
  } catch (e) {
    if (isApiError(e, "NotFound")) return undefined;
    throw e;
  }
}
