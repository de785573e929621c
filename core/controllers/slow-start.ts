import type { EventRecorder } from "../events.ts";
import { yieldIfSpent } from "../loop/yield-to-loop.ts";
import type { KubeObject } from "../object.ts";

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

/**
 * `call` for each item (the first BURST_REPLICAS of them) in slow-start batches; throws the
 * first failure once its batch has settled. The caller's next reconcile takes the rest.
 */
export async function forEachInSlowStart<T>(
  items: readonly T[],
  call: (item: T) => Promise<unknown>,
): Promise<void> {
  const slice = items.slice(0, BURST_REPLICAS);
  const { failure } = await slowStartBatch(slice.length, (i) => call(slice[i]!));
  if (failure !== undefined) throw failure;
}

/**
 * Creates `count` pods in slow-start batches with kube-controller-manager's events on `owner`
 * (SuccessfulCreate per pod, FailedCreate per failure); `create(i)` makes the i-th and puts it
 * into the informer at once, so the next pass counts it before its watch event (the
 * expectations). Throws the first failure; returns what was created.
 */
export async function createPodsInSlowStart<T extends KubeObject>(
  recorder: EventRecorder,
  owner: KubeObject,
  count: number,
  create: (index: number) => Promise<T>,
): Promise<T[]> {
  const { done, failure, failures } = await slowStartBatch(count, async (i) => {
    const pod = await create(i);
    recorder.record(owner, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`);
    return pod;
  });
  for (const e of failures) {
    const message = e instanceof Error ? e.message : String(e);
    recorder.record(owner, "Warning", "FailedCreate", `Error creating: ${message}`);
  }
  if (failure) throw failure;
  return done;
}
