import type { CronJob } from "kubernetes-types/batch/v1";
import { invalid } from "../../validation/causes.ts";
import { MAX_CRONJOB_NAME_LENGTH, validateCronJobSpec } from "../../validation/cronjob.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { as, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

/** batch/v1 CronJob: defaults of pkg/apis/batch/v1/defaults.go, a schedule that parses. */
export const cronJobStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  defaults(obj) {
    const spec = as<CronJob>(obj).spec;
    if (!spec) return;
    spec.concurrencyPolicy ??= "Allow";
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    const podSpec = spec.jobTemplate?.spec?.template?.spec;
    if (podSpec) defaultPodSpec(podSpec);
  },
  validate(obj) {
    const name = obj.metadata.name ?? "";
    const causes = validateCronJobSpec(as<CronJob>(obj).spec);
    if (name.length > MAX_CRONJOB_NAME_LENGTH)
      causes.unshift(
        invalid("metadata.name", name, `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`),
      );
    return causes;
  },
};
