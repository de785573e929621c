import type { Job } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT } from "../job-labels.ts";
import {
  type FailureVerdict,
  judgeFailedPod,
  MAX_POD_FAILURE_BACKOFF_MS,
  POD_FAILURE_BACKOFF_MS,
  parseIndexes,
  podFinishedAt,
  podIndex,
} from "./job-pods.ts";

/**
 * Indexed Jobs' own policies, as Kubernetes 1.32's job controller has them: backoffLimitPerIndex
 * (each index retried on its own, its failures carried from pod to pod in an annotation; an index
 * past its limit, or hit by a FailIndex rule, is failed for good and listed in
 * status.failedIndexes), maxFailedIndexes, and successPolicy (the Job succeeds once a rule's
 * indexes or count have succeeded).
 */

export interface Verdict {
  type: "Complete" | "Failed";
  reason: string;
  message: string;
}

/** What the next pod of an index carries, and how long it must wait. */
export interface IndexRetry {
  failures: number;
  ignored: number;
  delayMs: number;
}

export function hasBackoffLimitPerIndex(job: Job): boolean {
  return job.spec?.completionMode === "Indexed" && job.spec.backoffLimitPerIndex !== undefined;
}

function annotationCount(pod: Pod, key: string): number {
  const raw = pod.metadata?.annotations?.[key];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0;
}

/** Whether a failed pod fails its index: a FailIndex rule, or its index's failures past the limit. */
function failsIndex(job: Job, pod: Pod, verdict: FailureVerdict): boolean {
  if (verdict.action === "FailIndex") return true;
  if (verdict.action !== "Count") return false;
  return annotationCount(pod, INDEX_FAILURE_COUNT) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/** The indexes these newly failed pods fail for good. */
export function newlyFailedIndexes(job: Job, failedPods: Pod[], verdicts: FailureVerdict[]): number[] {
  const completions = job.spec?.completions ?? 0;
  if (!hasBackoffLimitPerIndex(job)) return [];
  return failedPods.flatMap((p, i) => {
    const index = podIndex(p, completions);
    return index !== undefined && failsIndex(job, p, verdicts[i]!) ? [index] : [];
  });
}

/**
 * For each index with a failed pod: the failure counts its replacement carries (the latest failed
 * pod's, plus that failure) and the back-off left before it (10 s doubling per failure of the
 * index, at most 6 min, from when that pod finished).
 */
export function indexRetries(job: Job, pods: Pod[], now: number): Map<number, IndexRetry> {
  const completions = job.spec?.completions ?? 0;
  const latest = new Map<number, Pod>();
  for (const p of pods) {
    if (p.status?.phase !== "Failed") continue;
    const index = podIndex(p, completions);
    if (index === undefined) continue;
    const seen = latest.get(index);
    if (!seen || podFinishedAt(p) >= podFinishedAt(seen)) latest.set(index, p);
  }
  const out = new Map<number, IndexRetry>();
  for (const [index, p] of latest) {
    const counted = judgeFailedPod(job, p).action !== "Ignore";
    const failures = annotationCount(p, INDEX_FAILURE_COUNT) + (counted ? 1 : 0);
    const ignored = annotationCount(p, INDEX_IGNORED_FAILURE_COUNT) + (counted ? 0 : 1);
    const backoff = Math.min(
      POD_FAILURE_BACKOFF_MS * 2 ** Math.max(failures - 1, 0),
      MAX_POD_FAILURE_BACKOFF_MS,
    );
    const delayMs = counted ? Math.max(0, podFinishedAt(p) + backoff - now) : 0;
    out.set(index, { failures, ignored, delayMs });
  }
  return out;
}

/**
 * The Job's verdict from its indexes, in upstream's order: too many failed indexes, every index
 * done with some failed, then a matching successPolicy rule.
 */
export function indexVerdict(job: Job, completed: Set<number>, failed: Set<number>): Verdict | undefined {
  const completions = job.spec?.completions ?? 0;
  const max = job.spec?.maxFailedIndexes;
  if (max !== undefined && failed.size > max)
    return {
      type: "Failed",
      reason: "MaxFailedIndexesExceeded",
      message: "Job has exceeded the specified maximal number of failed indexes",
    };
  if (failed.size > 0 && failed.size + completed.size >= completions)
    return { type: "Failed", reason: "FailedIndexes", message: "Job has failed indexes" };
  const rule = matchedSuccessRule(job, completed);
  if (rule !== undefined)
    return { type: "Complete", reason: "SuccessPolicy", message: `Matched rules at index ${rule}` };
  return undefined;
}

/** The first successPolicy rule the succeeded indexes satisfy. */
export function matchedSuccessRule(job: Job, completed: Set<number>): number | undefined {
  const rules = job.spec?.successPolicy?.rules ?? [];
  const completions = job.spec?.completions ?? 0;
  if (!completed.size) return undefined;
  for (const [i, rule] of rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const wanted = parseIndexes(rule.succeededIndexes, completions);
      if (!wanted.size) continue;
      const done = [...wanted].filter((x) => completed.has(x)).length;
      if (done === wanted.size || (rule.succeededCount !== undefined && done >= rule.succeededCount))
        return i;
    } else if (rule.succeededCount !== undefined && completed.size >= rule.succeededCount) return i;
  }
  return undefined;
}
