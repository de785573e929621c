import type { Job, JobCondition, JobSpec, JobStatus } from "kubernetes-types/batch/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { getCondition, setCondition } from "../conditions.ts";
import { parseTime, timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import {
  hasBackoffLimitPerIndex,
  type IndexRetry,
  indexRetries,
  indexVerdict,
  newlyFailedIndexes,
} from "./job-index-policy.ts";
import { wantedPods } from "./job-pod-plan.ts";
import {
  type FailureVerdict,
  formatIndexes,
  jobPod,
  judgeFailedPod,
  parseIndexes,
  podIndex,
  podRestarts,
  replacementDelayMs,
} from "./job-pods.ts";
import {
  flushUncounted,
  hasTrackingFinalizer,
  isPodFailed,
  isUncounted,
  removeTrackingFinalizer,
  uncountedOf,
  uncountedStatus,
} from "./job-tracking.ts";
import { controllerRef, type Kube } from "./owner-references.ts";
import { isPodReady } from "./pods.ts";
import { BURST_REPLICAS, createPodsInSlowStart, forEachInSlowStart, slowStartBatch } from "./slow-start.ts";

/** Longest a Job waits before it is looked at again (long deadlines and TTLs come back to it). */
const MAX_WAIT_MS = 10 * 60_000;
/** Queue keys of pods held by the finalizer with no Job controlling them (not Job keys). */
const ORPHAN_POD = "orphan-pod:";

type J = Kube<Job>;
type P = Kube<Pod>;
type FailJob = Extract<FailureVerdict, { action: "FailJob" }>;
type Finish = { type: "Complete" | "Failed"; reason: string; message: string };

const COMPLETED: Finish = {
  type: "Complete",
  reason: "CompletionsReached",
  message: "Reached expected number of succeeded pods",
};

/**
 * Runs each Job's pods to completion as Kubernetes 1.32's job controller does: keeps up to
 * `parallelism` pods running until `completions` succeed (one per index when Indexed), replaces
 * failed pods after a back-off, gives up past `backoffLimit`, `activeDeadlineSeconds` or a
 * FailJob podFailurePolicy rule (FailureTarget, then Failed once no pod is left running),
 * retries and fails Indexed Jobs' indexes one by one (backoffLimitPerIndex, maxFailedIndexes,
 * FailIndex rules, successPolicy: job-index-policy.ts), marks success (SuccessCriteriaMet, then
 * Complete), honours `suspend`, and deletes a finished Job after `ttlSecondsAfterFinished`.
 *
 * Counts are kept with the job-tracking finalizer (job-tracking.ts): a finished pod is counted
 * exactly once even when it is deleted before the controller saw it.
 */
export function createJobController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const jobs = informers.for<J>("jobs.batch");
  const pods = informers.for<P>("pods");
  const recorder = ctx.events("job-controller");

  const controller = createController({
    name: "job",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => jobs.list().map(keyOf) },
  });
  jobs.onEvent((e) => controller.enqueue(keyOf(e.object)));
  pods.onEvent((e) => {
    const ref = controllerRef(e.object);
    if (ref?.kind === "Job") controller.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
    else if (hasTrackingFinalizer(e.object)) controller.enqueue(`${ORPHAN_POD}${keyOf(e.object)}`);
  });
  return controller;

  async function reconcile(key: string) {
    if (key.startsWith(ORPHAN_POD)) return releaseOrphan(key.slice(ORPHAN_POD.length));
    const { namespace, name } = splitKey(key);
    const job = jobs.get(namespace, name);
    // Pods of an earlier Job of this name, or of one being deleted, must not hang on the finalizer.
    const orphans = pods
      .list(namespace)
      .filter((p) => controllerRef(p)?.kind === "Job" && controllerRef(p)?.name === name)
      .filter((p) => !job || job.metadata.deletionTimestamp || controllerRef(p)?.uid !== job.metadata.uid);
    await releaseFinalizers(orphans);
    if (!job || job.metadata.deletionTimestamp) return; // the garbage collector removes its pods
    const now = clock.now();
    const owned = pods.list(namespace).filter((p) => controllerRef(p)?.uid === job.metadata.uid);
    const finished = finishedCondition(job);
    if (finished) {
      await deletePods(job, owned.filter(isActive));
      await releaseFinalizers(owned);
      return expireAfterTtl(job, finished, now);
    }
    const spec: Partial<JobSpec> = job.spec ?? {};
    const status: JobStatus = { ...job.status };
    const stamp = timestamp(clock);
    let conditions = job.status?.conditions ?? [];
    const active = owned.filter(isActive);
    const terminating = owned.filter((p) => p.metadata.deletionTimestamp && !isTerminal(p));
    const succeededPods = owned.filter((p) => p.status?.phase === "Succeeded");
    // A pod that fails while being deleted (suspend, scale-down, deadline) did not fail on its own.
    const failedPods = owned.filter((p) => p.status?.phase === "Failed" && !p.metadata.deletionTimestamp);
    const counted = failedPods.filter((p) => judgeFailedPod(job, p).action !== "Ignore");
    const completions = spec.completions;
    const indexed = spec.completionMode === "Indexed" && completions !== undefined;

    // Finished pods still held by the finalizer are counted now (once: their uid is remembered).
    const uncounted = uncountedOf(job);
    const fresh = owned.filter((p) => hasTrackingFinalizer(p) && !isUncounted(uncounted, p.metadata.uid!));
    const newSucceeded = fresh.filter((p) => p.status?.phase === "Succeeded");
    const newFailed = fresh.filter((p) => p.status?.phase !== "Succeeded" && isPodFailed(p, job));
    const verdicts = newFailed.map((p) => judgeFailedPod(job, p));
    const failJob = verdicts.find((v): v is FailJob => v.action === "FailJob");
    if (!indexed) for (const p of newSucceeded) uncounted.succeeded.add(p.metadata.uid!);
    newFailed.forEach((p, i) => {
      if (verdicts[i]!.action !== "Ignore") uncounted.failed.add(p.metadata.uid!);
    });
    const completed = indexed
      ? new Set([
          ...parseIndexes(status.completedIndexes, completions),
          ...succeededPods.map((p) => podIndex(p, completions)).filter((i) => i !== undefined),
        ])
      : undefined;
    // backoffLimitPerIndex: indexes failed for good, and each index's own retry count and back-off.
    const failedIndexes = hasBackoffLimitPerIndex(job)
      ? new Set([
          ...parseIndexes(status.failedIndexes, completions ?? 0),
          ...newlyFailedIndexes(job, newFailed, verdicts),
        ])
      : undefined;
    const retries = failedIndexes ? indexRetries(job, owned, now) : new Map<number, IndexRetry>();
    const byIndexes = completed ? indexVerdict(job, completed, failedIndexes ?? new Set()) : undefined;
    // Finished pods without the finalizer are counted already, or were made before minik tracked
    // with it: as a floor, they keep a Job that was running across the upgrade finishing.
    const untracked = (list: P[]) => list.filter((p) => !hasTrackingFinalizer(p)).length;
    const floor = { succeeded: untracked(succeededPods), failed: untracked(counted) };
    const succeeded = completed
      ? completed.size
      : Math.max((status.succeeded ?? 0) + uncounted.succeeded.size, floor.succeeded);
    const failed = Math.max((status.failed ?? 0) + uncounted.failed.size, floor.failed);
    if (!spec.suspend && !status.startTime) status.startTime = stamp;

    // A verdict already reached stays; otherwise look for one.
    let target = targetOf(conditions);
    if (!target) {
      const started = parseTime(status.startTime);
      if (failJob) target = { type: "Failed", reason: "PodFailurePolicy", message: failJob.message };
      else if (pastBackoffLimit(job, failed, active))
        target = {
          type: "Failed",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
        };
      else if (
        !spec.suspend &&
        spec.activeDeadlineSeconds !== undefined &&
        now - started >= spec.activeDeadlineSeconds * 1000
      )
        target = {
          type: "Failed",
          reason: "DeadlineExceeded",
          message: "Job was active longer than specified deadline",
        };
      else if (byIndexes) target = byIndexes;
      else if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0)
        target = COMPLETED;
      if (target) {
        const interim = target.type === "Complete" ? "SuccessCriteriaMet" : "FailureTarget";
        conditions = setJobCondition(conditions, interim, "True", target.reason, target.message, stamp);
      }
    }

    let requeueAfterMs: number | undefined;
    let error: unknown;
    let live = active;
    try {
      const without = (gone: P[]) => live.filter((p) => !gone.includes(p));
      if (target) {
        live = without(await deletePods(job, active));
      } else if (spec.suspend) {
        live = without(await deletePods(job, active));
        if (getCondition(conditions, "Suspended")?.status !== "True") {
          conditions = setJobCondition(
            conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            stamp,
          );
          recorder.record(job, "Normal", "Suspended", "Job suspended");
        }
      } else {
        if (getCondition(conditions, "Suspended")?.status === "True") {
          conditions = setJobCondition(conditions, "Suspended", "False", "JobResumed", "Job resumed", stamp);
          status.startTime = stamp;
          recorder.record(job, "Normal", "Resumed", "Job resumed");
        }
        const waiting = spec.podReplacementPolicy === "Failed" ? terminating.length : 0;
        // Per-index back-off is each index's own (retries); otherwise the Job's failures set it.
        const delay = failedIndexes ? 0 : replacementDelayMs(counted, succeededPods, now);
        const closed = completed && new Set([...completed, ...(failedIndexes ?? [])]);
        const wanted = wantedPods(job, active, succeeded, waiting, closed, retries);
        if (wanted.excess.length) live = without(await deletePods(job, wanted.excess));
        if (wanted.waitMs !== undefined) requeueAfterMs = wanted.waitMs;
        if (wanted.create.length && delay > 0) requeueAfterMs = delay;
        else if (wanted.create.length) live = [...live, ...(await createPods(job, wanted.create, retries))];
        const deadline = spec.activeDeadlineSeconds;
        if (deadline !== undefined) {
          const left = parseTime(status.startTime) + deadline * 1000 - now;
          requeueAfterMs = Math.min(requeueAfterMs ?? left, left);
        }
      }
    } catch (e) {
      error = e;
    }

    // First record what is about to be counted, then release the pods, then count them.
    const base: JobStatus = {
      ...status,
      conditions: conditions.length ? conditions : undefined,
      active: (target ? 0 : live.length) || undefined,
      ready: live.filter(isPodReady).length,
      terminating: terminating.length,
      ...(completed
        ? { completedIndexes: formatIndexes(completed), succeeded: completed.size || undefined }
        : {}),
      ...(failedIndexes ? { failedIndexes: formatIndexes(failedIndexes) } : {}),
    };
    const release = owned.filter(
      (p) =>
        hasTrackingFinalizer(p) &&
        (newSucceeded.includes(p) || newFailed.includes(p) || isUncounted(uncounted, p.metadata.uid!)),
    );
    let current = job;
    if (release.length)
      current = await writeStatus(job, { ...base, uncountedTerminatedPods: uncountedStatus(uncounted) });
    const stillTracked = new Set((await releaseFinalizers(release)).map((p) => p.metadata.uid!));
    const moved = flushUncounted(uncounted, stillTracked);
    const next: JobStatus = {
      ...base,
      ...(completed
        ? {}
        : { succeeded: Math.max((status.succeeded ?? 0) + moved.succeeded, floor.succeeded) || undefined }),
      failed: Math.max((status.failed ?? 0) + moved.failed, floor.failed) || undefined,
      uncountedTerminatedPods: uncountedStatus(uncounted),
    };
    // The final condition waits until no pod of the Job is left running and every one is counted.
    const settled = !uncounted.succeeded.size && !uncounted.failed.size;
    if (
      target &&
      settled &&
      active.length + terminating.length === 0 &&
      !getCondition(conditions, target.type)
    ) {
      next.conditions = setJobCondition(
        conditions,
        target.type,
        "True",
        target.reason,
        target.message,
        stamp,
      );
      if (target.type === "Complete") {
        next.completionTime = stamp;
        recorder.record(job, "Normal", "Completed", "Job completed");
      } else recorder.record(job, "Warning", target.reason, target.message);
    }
    await writeStatus(current, next);
    if (error) throw error;
    if (!settled) return { requeueAfterMs: 1_000 };
    return requeueAfterMs !== undefined
      ? { requeueAfterMs: Math.min(Math.max(requeueAfterMs, 0) + 10, MAX_WAIT_MS) }
      : undefined;
  }

  /** Takes the tracking finalizer off pods (at most BURST_REPLICAS); returns those still held. */
  async function releaseFinalizers(held: P[]): Promise<P[]> {
    const tracked = held.filter(hasTrackingFinalizer);
    const slice = tracked.slice(0, BURST_REPLICAS);
    const { done } = await slowStartBatch(slice.length, async (i) => {
      const released = await removeTrackingFinalizer(client, slice[i]!);
      if (released) pods.observe(released);
      return slice[i]!;
    });
    const released = new Set(done);
    return tracked.filter((p) => !released.has(p));
  }

  /** A pod with the finalizer but no Job controlling it (orphaned): nothing will count it, let it go. */
  async function releaseOrphan(key: string) {
    const { namespace, name } = splitKey(key);
    const pod = pods.get(namespace, name);
    if (!pod || controllerRef(pod)?.kind === "Job") return;
    const still = await releaseFinalizers([pod]);
    if (still.length) return { requeueAfterMs: 1_000 };
  }

  /** Creates pods in slow-start batches (1, 2, 4, …), stopping at the first failure. */
  function createPods(
    job: J,
    indexes: (number | undefined)[],
    retries: Map<number, IndexRetry>,
  ): Promise<P[]> {
    return createPodsInSlowStart(recorder, job, indexes.length, async (i) => {
      const index = indexes[i];
      const pod = await client.create<P>("pods", jobPod(job, index, retries.get(index ?? -1)));
      pods.observe(pod);
      return pod;
    });
  }

  /** Deletes the given pods (at most BURST_REPLICAS, in slow-start batches); returns those asked to go. */
  async function deletePods(job: J, doomed: P[]): Promise<P[]> {
    const slice = doomed.slice(0, BURST_REPLICAS);
    await forEachInSlowStart(slice, async (p) => {
      // The finalizer goes first: a pod the controller removes is not a failure to count.
      if ((await removeTrackingFinalizer(client, p)) === undefined) return;
      const gone = await client.delete<P>("pods", p.metadata.namespace ?? "", p.metadata.name!, {
        preconditions: { uid: p.metadata.uid },
      });
      pods.observeDeleted(gone ?? p);
      recorder.record(job, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
    });
    return slice;
  }

  /** Deletes a finished Job (and through the collector its pods) once its TTL has run out. */
  async function expireAfterTtl(job: J, finished: JobCondition, now: number) {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    const at =
      (finished.type === "Complete" ? parseTime(job.status?.completionTime) : Number.NaN) ||
      parseTime(finished.lastTransitionTime);
    const left = (Number.isNaN(at) ? now : at) + ttl * 1000 - now;
    if (left > 0) return { requeueAfterMs: Math.min(left + 10, MAX_WAIT_MS) };
    await client.delete("jobs.batch", job.metadata.namespace!, job.metadata.name!, {
      propagationPolicy: "Background",
      preconditions: { uid: job.metadata.uid },
    });
  }

  async function writeStatus(job: J, status: JobStatus): Promise<J> {
    const clean = Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined)) as JobStatus;
    if (deepEqual(clean, job.status ?? {})) return job;
    const updated = await client.updateStatus<J>("jobs.batch", { ...job, status: clean });
    jobs.observe(updated);
    return updated;
  }
}

/**
 * More failed pods than backoffLimit allows, or for restartPolicy OnFailure as many container
 * restarts in running pods (any restart when the limit is 0), as Kubernetes counts them.
 */
function pastBackoffLimit(job: Job, failed: number, active: Pod[]): boolean {
  const limit = job.spec?.backoffLimit ?? 6;
  if (failed > limit) return true;
  if (job.spec?.template?.spec?.restartPolicy !== "OnFailure") return false;
  const restarts = active.reduce((n, p) => n + podRestarts(p), 0);
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
}

function isActive(p: Pod): boolean {
  return !isTerminal(p) && !p.metadata?.deletionTimestamp;
}

/** The Complete or Failed condition, when the Job is finished. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
}

/** The verdict a FailureTarget or SuccessCriteriaMet condition already recorded. */
function targetOf(conditions: JobCondition[]): Finish | undefined {
  const failure = getCondition(conditions, "FailureTarget");
  if (failure?.status === "True")
    return { type: "Failed", reason: failure.reason ?? "", message: failure.message ?? "" };
  const success = getCondition(conditions, "SuccessCriteriaMet");
  if (success?.status === "True")
    return { type: "Complete", reason: success.reason ?? "", message: success.message ?? "" };
  return undefined;
}

function setJobCondition(
  conditions: JobCondition[],
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): JobCondition[] {
  return setCondition<JobCondition>(conditions, { type, status, reason, message, lastProbeTime: now }, now);
}
