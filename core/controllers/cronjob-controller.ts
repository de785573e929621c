import type { CronJob, CronJobStatus, Job } from "kubernetes-types/batch/v1";
import type { ObjectReference } from "kubernetes-types/core/v1";
import { type CronSchedule, mostRecentScheduleTime, parseCronSchedule } from "../cron-schedule.ts";
import { isApiError } from "../errors.ts";
import { CRONJOB_SCHEDULED_TIMESTAMP } from "../job-labels.ts";
import { parseTime, timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import { finishedCondition } from "./job-controller.ts";
import { controllerRef, type Kube, ownerReferenceTo } from "./owner-references.ts";

type CJ = Kube<CronJob>;
type J = Kube<Job>;

/** Kubernetes warns when more start times than this were missed (and still runs only the latest). */
const MISSED_WARNING = 100;
/** Longest a CronJob waits before it is looked at again (timers are not exact over days). */
const MAX_WAIT_MS = 10 * 60_000;

/**
 * Starts Jobs on each CronJob's schedule as Kubernetes 1.32's cronjob controller (v2) does: the
 * latest missed start time is run once (so a restart catches up at most one run), unless it is
 * older than `startingDeadlineSeconds`; `concurrencyPolicy` Forbid skips while a run is active
 * and Replace deletes it first; finished Jobs beyond the history limits are deleted; status keeps
 * the active Jobs, lastScheduleTime and lastSuccessfulTime.
 */
export function createCronJobController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const cronJobs = informers.for<CJ>("cronjobs.batch");
  const jobs = informers.for<J>("jobs.batch");
  const recorder = ctx.events("cronjob-controller");

  const controller = createController({
    name: "cronjob",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 60_000, keys: () => cronJobs.list().map(keyOf) },
  });
  cronJobs.onEvent((e) => controller.enqueue(keyOf(e.object)));
  jobs.onEvent((e) => {
    const ref = controllerRef(e.object);
    if (ref?.kind === "CronJob") controller.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const cj = cronJobs.get(namespace, name);
    if (!cj) return;
    const now = clock.now();
    const owned = jobs.list(namespace).filter((j) => controllerRef(j)?.uid === cj.metadata.uid);
    const status: CronJobStatus = { ...cj.status, active: syncActive(cj, owned) };
    const lastSuccess = latestSuccess(cj, owned);
    if (lastSuccess) status.lastSuccessfulTime = lastSuccess;
    const lastScheduled = latestScheduled(cj, owned);
    if (lastScheduled) status.lastScheduleTime = lastScheduled;
    await cleanUpHistory(cj, owned);
    if (cj.metadata.deletionTimestamp || cj.spec?.suspend) return writeStatus(cj, status);

    let schedule: CronSchedule;
    try {
      schedule = parseCronSchedule(cj.spec?.schedule ?? "", cj.spec?.timeZone);
    } catch (e) {
      recorder.record(cj, "Warning", "InvalidSchedule", `invalid schedule: ${(e as Error).message}`);
      return writeStatus(cj, status);
    }
    const deadline = cj.spec?.startingDeadlineSeconds;
    let earliest = parseTime(status.lastScheduleTime ?? cj.metadata.creationTimestamp);
    if (Number.isNaN(earliest)) earliest = now;
    if (deadline !== undefined) earliest = Math.max(earliest, now - deadline * 1000);
    const { time, missed } = mostRecentScheduleTime(schedule, earliest, now);
    const wait = () => {
      const next = schedule.next(now);
      return { requeueAfterMs: next === undefined ? MAX_WAIT_MS : Math.min(next - now + 100, MAX_WAIT_MS) };
    };
    if (missed > MISSED_WARNING)
      recorder.record(
        cj,
        "Warning",
        "TooManyMissedTimes",
        `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
      );
    const jobName = time === undefined ? "" : `${cj.metadata.name}-${Math.floor(time / 60_000)}`;
    const alreadyRun =
      time === undefined ||
      parseTime(status.lastScheduleTime) >= time ||
      status.active?.some((r) => r.name === jobName);
    if (alreadyRun) {
      await writeStatus(cj, status);
      return wait();
    }
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && status.active?.length) {
      recorder.record(
        cj,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
      );
      await writeStatus(cj, status);
      return wait();
    }
    if (policy === "Replace") {
      for (const ref of status.active ?? []) {
        await deleteJob(cj, ref.name!, ref.uid);
        status.active = status.active?.filter((r) => r.uid !== ref.uid);
      }
    }
    const job = await createJob(cj, jobName, time!);
    status.active = [...(status.active ?? []), refTo(job)];
    status.lastScheduleTime = rfc3339(time!);
    await writeStatus(cj, status);
    return wait();
  }

  /** The active list, less Jobs gone or finished, plus running Jobs this controller created. */
  function syncActive(cj: CJ, owned: J[]): ObjectReference[] {
    const byUid = new Map(owned.map((j) => [j.metadata.uid, j]));
    const active: ObjectReference[] = [];
    for (const ref of cj.status?.active ?? []) {
      const job = byUid.get(ref.uid);
      if (!job) recorder.record(cj, "Normal", "MissingJob", `Active job went missing: ${ref.name}`);
      else if (finishedCondition(job)) {
        const condition = finishedCondition(job)!.type;
        recorder.record(
          cj,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${ref.name}, condition: ${condition}`,
        );
      } else active.push(ref);
    }
    for (const job of owned) {
      const ours = job.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP] !== undefined;
      if (ours && !finishedCondition(job) && !active.some((r) => r.uid === job.metadata.uid))
        active.push(refTo(job));
    }
    return active;
  }

  /** The newest completionTime of a Complete Job, if newer than the recorded one. */
  function latestSuccess(cj: CJ, owned: J[]): string | undefined {
    let best = cj.status?.lastSuccessfulTime;
    for (const job of owned) {
      const done = job.status?.completionTime;
      if (finishedCondition(job)?.type === "Complete" && done && parseTime(done) > (parseTime(best) || 0))
        best = done;
    }
    return best;
  }

  /**
   * The newest schedule time a Job of ours was started for, if newer than the recorded one (a
   * Job created just before a crash, or by a sync whose status write lost a race).
   */
  function latestScheduled(cj: CJ, owned: J[]): string | undefined {
    let best = cj.status?.lastScheduleTime;
    for (const job of owned) {
      const at = Date.parse(job.metadata.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP] ?? "");
      if (!Number.isNaN(at) && at > (parseTime(best) || 0)) best = rfc3339(at);
    }
    return best;
  }

  /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  async function cleanUpHistory(cj: CJ, owned: J[]) {
    const limits = { Complete: cj.spec?.successfulJobsHistoryLimit, Failed: cj.spec?.failedJobsHistoryLimit };
    for (const type of ["Complete", "Failed"] as const) {
      const limit = limits[type];
      if (limit === undefined) continue;
      const finished = owned
        .filter((j) => finishedCondition(j)?.type === type && !j.metadata.deletionTimestamp)
        .sort((a, b) => startOf(a) - startOf(b));
      for (const job of finished.slice(0, Math.max(0, finished.length - limit)))
        await deleteJob(cj, job.metadata.name!, job.metadata.uid);
    }
  }

  async function deleteJob(cj: CJ, name: string, uid: string | undefined) {
    try {
      const gone = await client.delete<J>("jobs.batch", cj.metadata.namespace!, name, {
        propagationPolicy: "Background",
        ...(uid ? { preconditions: { uid } } : {}),
      });
      if (gone) jobs.observeDeleted(gone);
      recorder.record(cj, "Normal", "SuccessfulDelete", `Deleted job ${name}`);
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
    }
  }

  async function createJob(cj: CJ, name: string, time: number): Promise<J> {
    const template = cj.spec?.jobTemplate ?? {};
    const job: J = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...template.metadata?.labels },
        annotations: {
          ...template.metadata?.annotations,
          [CRONJOB_SCHEDULED_TIMESTAMP]: formatInZone(time, cj.spec?.timeZone),
        },
        ownerReferences: [ownerReferenceTo(cj)],
      },
      spec: structuredClone(template.spec ?? { template: {} }),
    };
    try {
      const created = await client.create<J>("jobs.batch", job);
      jobs.observe(created);
      recorder.record(cj, "Normal", "SuccessfulCreate", `Created job ${name}`);
      return created;
    } catch (e) {
      if (!isApiError(e, "AlreadyExists")) {
        recorder.record(cj, "Warning", "FailedCreate", `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      // Created before a crash or by a concurrent sync: ours if it names this CronJob.
      const existing = await client.get<J>("jobs.batch", cj.metadata.namespace!, name);
      if (controllerRef(existing)?.uid !== cj.metadata.uid) throw e;
      return existing;
    }
  }

  async function writeStatus(cj: CJ, status: CronJobStatus) {
    const clean = Object.fromEntries(
      Object.entries(status).filter(
        ([k, v]) => v !== undefined && !(k === "active" && !(v as unknown[]).length),
      ),
    ) as CronJobStatus;
    if (deepEqual(clean, cj.status ?? {})) return;
    const updated = await client.updateStatus<CJ>("cronjobs.batch", { ...cj, status: clean });
    cronJobs.observe(updated);
  }
}

function refTo(job: J): ObjectReference {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    name: job.metadata.name,
    namespace: job.metadata.namespace,
    uid: job.metadata.uid,
    resourceVersion: job.metadata.resourceVersion,
  };
}

function startOf(job: Job): number {
  return parseTime(job.status?.startTime ?? job.metadata?.creationTimestamp) || 0;
}

function rfc3339(ms: number): string {
  return timestamp({ now: () => ms });
}

/** RFC 3339 in a time zone, as Go's `t.In(loc).Format(time.RFC3339)`: `2026-12-06T13:00:00+01:00`. */
export function formatInZone(ms: number, zone: string | undefined): string {
  if (!zone || zone === "UTC" || zone === "Etc/UTC") return rfc3339(ms);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "longOffset",
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === "GMT" ? "Z" : String(parts.timeZoneName).replace(/^GMT/, "");
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
