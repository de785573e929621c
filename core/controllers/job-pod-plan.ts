import type { Job, JobSpec } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { parseTime } from "../loop/clock.ts";
import type { IndexRetry } from "./job-index-policy.ts";
import { podIndex } from "./job-pods.ts";
import { isPodReady } from "./pods.ts";
import { BURST_REPLICAS } from "./slow-start.ts";

/**
 * The Job's pod plan for one reconcile, a pure function: which pods to create (at most a burst)
 * and which running ones are too many — per index for an Indexed Job, by count otherwise.
 */
/** What to create (an entry per pod: its index, or undefined) and which active pods are too many. */
export function wantedPods<T extends Pod>(
  job: Job,
  active: T[],
  succeeded: number,
  waiting: number,
  closed: Set<number> | undefined,
  retries: Map<number, IndexRetry>,
): { create: (number | undefined)[]; excess: T[]; waitMs?: number } {
  const spec: Partial<JobSpec> = job.spec ?? {};
  const parallelism = spec.parallelism ?? 1;
  const completions = spec.completions;
  if (closed && completions !== undefined) {
    // One pod per index not yet done (succeeded or failed for good); a duplicate or closed
    // index's pod goes; an index in its back-off waits for it.
    const running = new Map<number, T>();
    const excess: T[] = [];
    for (const p of active) {
      const i = podIndex(p, completions);
      if (i === undefined || closed.has(i) || running.has(i)) excess.push(p);
      else running.set(i, p);
    }
    const room = Math.max(0, parallelism - running.size - waiting);
    const create: number[] = [];
    let waitMs: number | undefined;
    for (let i = 0; i < completions && create.length < Math.min(room, BURST_REPLICAS); i++) {
      if (closed.has(i) || running.has(i)) continue;
      const delay = retries.get(i)?.delayMs ?? 0;
      if (delay > 0) waitMs = Math.min(waitMs ?? delay, delay);
      else create.push(i);
    }
    return { create, excess, waitMs };
  }
  let want = parallelism;
  if (completions !== undefined) want = Math.min(parallelism, completions - succeeded);
  else if (succeeded > 0) want = Math.min(active.length, parallelism);
  want = Math.max(0, want);
  const count = Math.min(want - active.length - waiting, BURST_REPLICAS);
  if (count > 0) return { create: Array.from({ length: count }, () => undefined), excess: [] };
  const surplus = Math.min(active.length - want, BURST_REPLICAS);
  // Newest and least ready first, so pods nearest to done are kept.
  const order = [...active].sort(
    (a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || created(b) - created(a),
  );
  return { create: [], excess: surplus > 0 ? order.slice(0, surplus) : [] };
}

function created(p: Pod): number {
  return parseTime(p.metadata?.creationTimestamp) || 0;
}
