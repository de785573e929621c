import type { Job } from "kubernetes-types/batch/v1";
import { humanDuration, since } from "./human-duration.ts";
import {
  ageColumn,
  column,
  containersColumn,
  imagesColumn,
  nameColumn,
  type Printer,
  selectorColumn,
  selectorString,
  templateCells,
} from "./printer.ts";

export const jobPrinter: Printer = {
  columns: [
    nameColumn,
    column("Status", "string", "Status of the job."),
    column("Completions", "string", "The completion status of the job."),
    column("Duration", "string", "Time required to complete the job."),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(obj, now) {
    const job = obj as unknown as Job;
    return [
      job.metadata?.name,
      jobStatus(job),
      completions(job),
      duration(job, now),
      since(job.metadata?.creationTimestamp, now),
      ...templateCells(job.spec?.template),
      selectorString(job.spec?.selector),
    ];
  },
};

/** The STATUS column: the first of these that holds, as kubectl 1.32 prints it. */
export function jobStatus(job: Job): string {
  const has = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === "True");
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (job.metadata?.deletionTimestamp) return "Terminating";
  if (has("Suspended")) return "Suspended";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

function completions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function duration(job: Job, now: number): string {
  const start = Date.parse(job.status?.startTime ?? "");
  if (Number.isNaN(start)) return "";
  const end = Date.parse(job.status?.completionTime ?? "");
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}
