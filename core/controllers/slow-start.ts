import { yieldIfSpent } from "../loop/yield-to-loop.ts";

/**
 * Bounded pod churn, as Kubernetes' controllers have it: at most BURST_REPLICAS creations or
 * deletions per reconcile (the rest on the next pass, which the resulting pod events trigger),
 * and those in slow-start batches of 1, 2, 4 … up to MAX_BATCH, stopping at the first batch with
 * a failure, so a template that cannot work costs one call, not thousands. Between batches the
 * event loop gets a turn, so the API answers while a large ReplicaSet fills up.
 */
export const BURST_REPLICAS = 500;
export const MAX_BATCH = 4;

export interface SlowStartResult<T> {
  done: T[];
  /** The first error; the calls after its batch were not made. */
  failure?: unknown;
  failures: unknown[];
}

/** Runs `call(i)` for i in [0, count) in growing batches; stops after a batch with a failure. */
export async function slowStartBatch<T>(
  count: number,
  call: (index: number) => Promise<T>,
  maxBatch = MAX_BATCH,
): Promise<SlowStartResult<T>> {
  const result: SlowStartResult<T> = { done: [], failures: [] };
  let next = 0;
  for (let batch = 1; next < count; batch = Math.min(batch * 2, maxBatch)) {
    if (next > 0) await yieldIfSpent();
    const size = Math.min(batch, count - next);
    const settled = await Promise.allSettled(Array.from({ length: size }, (_, i) => call(next + i)));
    next += size;
    for (const r of settled) {
      if (r.status === "fulfilled") result.done.push(r.value);
      else result.failures.push(r.reason);
    }
    if (result.failures.length) {
      result.failure = result.failures[0];
      break;
    }
  }
  return result;
}
