import type { CronJobSpec } from "kubernetes-types/batch/v1";
import { checkTimeZone, parseCronSchedule } from "../cron-schedule.ts";
import { type Causes, invalid, notSupported, required } from "./causes.ts";
import { validateJobSpec } from "./job.ts";

const CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"];
/** A CronJob's name plus `-<minutes since epoch>` must still fit in a Job name (63). */
export const MAX_CRONJOB_NAME_LENGTH = 52;

/** A CronJob's spec, as pkg/apis/batch/validation checks it. */
export function validateCronJobSpec(spec: CronJobSpec | undefined): Causes {
  if (!spec) return [required("spec")];
  const causes: Causes = [];
  if (spec.timeZone !== undefined) {
    try {
      checkTimeZone(spec.timeZone);
    } catch (e) {
      causes.push(invalid("spec.timeZone", spec.timeZone, (e as Error).message));
    }
  }
  if (!spec.schedule) causes.push(required("spec.schedule"));
  else if (!causes.length) {
    try {
      parseCronSchedule(spec.schedule, spec.timeZone);
    } catch (e) {
      causes.push(invalid("spec.schedule", spec.schedule, (e as Error).message));
    }
  }
  const policy = spec.concurrencyPolicy;
  if (policy !== undefined && !CONCURRENCY_POLICIES.includes(policy))
    causes.push(notSupported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES));
  for (const k of [
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
  ] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      causes.push(invalid(`spec.${k}`, v, "must be greater than or equal to 0"));
  }
  if (!spec.jobTemplate) causes.push(required("spec.jobTemplate"));
  else causes.push(...validateJobSpec(spec.jobTemplate.spec, "spec.jobTemplate.spec", false));
  return causes;
}
