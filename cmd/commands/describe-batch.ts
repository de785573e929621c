import type { CronJob, Job } from "kubernetes-types/batch/v1";
import { humanDuration } from "../../core/api/printers/index.ts";

/** `minik describe job`'s own lines, in kubectl's order (the pod template and events follow). */
export function jobLines(job: Job): [string, unknown][] {
  const spec = job.spec;
  const status = job.status ?? {};
  const start = Date.parse(status.startTime ?? "");
  const end = Date.parse(status.completionTime ?? "");
  const lines: [string, unknown][] = [
    ["Parallelism", spec?.parallelism ?? "<unset>"],
    ["Completions", spec?.completions ?? "<unset>"],
    ["Completion Mode", spec?.completionMode ?? "NonIndexed"],
    ["Suspend", spec?.suspend ?? false],
    ["Backoff Limit", spec?.backoffLimit ?? "<unset>"],
  ];
  if (spec?.activeDeadlineSeconds !== undefined)
    lines.push(["Active Deadline Seconds", `${spec.activeDeadlineSeconds}s`]);
  if (spec?.ttlSecondsAfterFinished !== undefined)
    lines.push(["TTL Seconds After Finished", spec.ttlSecondsAfterFinished]);
  if (status.startTime) lines.push(["Start Time", status.startTime]);
  if (status.completionTime) lines.push(["Completed At", status.completionTime]);
  if (!Number.isNaN(start))
    lines.push(["Duration", humanDuration((Number.isNaN(end) ? Date.now() : end) - start)]);
  lines.push([
    "Pods Statuses",
    `${status.active ?? 0} Active (${status.ready ?? 0} Ready) / ${status.succeeded ?? 0} Succeeded / ${status.failed ?? 0} Failed`,
  ]);
  if (spec?.completionMode === "Indexed")
    lines.push(["Completed Indexes", status.completedIndexes || "<none>"]);
  if (spec?.backoffLimitPerIndex !== undefined)
    lines.push(["Failed Indexes", status.failedIndexes || "<none>"]);
  return lines;
}

/** `minik describe cronjob`'s own lines, in kubectl's order. */
export function cronJobLines(cj: CronJob): [string, unknown][] {
  const spec = cj.spec;
  const job = spec?.jobTemplate?.spec;
  return [
    ["Schedule", spec?.schedule],
    ...(spec?.timeZone ? ([["Time Zone", spec.timeZone]] as [string, unknown][]) : []),
    ["Concurrency Policy", spec?.concurrencyPolicy ?? "Allow"],
    ["Suspend", spec?.suspend ? "True" : "False"],
    ["Successful Job History Limit", spec?.successfulJobsHistoryLimit ?? "<unset>"],
    ["Failed Job History Limit", spec?.failedJobsHistoryLimit ?? "<unset>"],
    [
      "Starting Deadline Seconds",
      spec?.startingDeadlineSeconds !== undefined ? `${spec.startingDeadlineSeconds}s` : "<unset>",
    ],
    ["Parallelism", job?.parallelism ?? "<unset>"],
    ["Completions", job?.completions ?? "<unset>"],
    ["Last Schedule Time", cj.status?.lastScheduleTime ?? "<unset>"],
    ["Last Successful Time", cj.status?.lastSuccessfulTime ?? "<unset>"],
    ["Active Jobs", (cj.status?.active ?? []).map((r) => r.name).join(", ") || "<none>"],
  ];
}
