import type { Job, JobSpec } from "kubernetes-types/batch/v1";
import {
  CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
} from "../../job-labels.ts";
import { deepEqual } from "../../patch/deep-equal.ts";
import { type Causes, immutable } from "../../validation/causes.ts";
import { validateJobSpec } from "../../validation/job.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { as, type Mutable, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

/**
 * batch/v1 Job: a selector generated from the uid (unless `manualSelector`), the defaults of
 * pkg/apis/batch/v1/defaults.go, and a pod template that cannot change once created.
 */
export const jobStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
    const job = as<Job>(obj);
    if (!job.spec || job.spec.manualSelector) return;
    const uid = job.metadata!.uid!;
    const name = job.metadata!.name!;
    job.spec.template ??= {};
    job.spec.template.metadata ??= {};
    job.spec.template.metadata.labels = {
      ...job.spec.template.metadata.labels,
      [CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: name,
      [LEGACY_CONTROLLER_UID_LABEL]: uid,
      [LEGACY_JOB_NAME_LABEL]: name,
    };
    job.spec.selector ??= { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
  },
  defaults(obj) {
    const job = as<Job>(obj);
    const spec = job.spec;
    if (!spec) return;
    defaultJobSpec(spec);
    const templateLabels = spec.template?.metadata?.labels;
    if (!Object.keys(job.metadata?.labels ?? {}).length && templateLabels)
      job.metadata!.labels = { ...templateLabels };
  },
  validate: (obj) => validateJobSpec(as<Job>(obj).spec, "spec", true),
  validateUpdate(obj, old) {
    const spec: Partial<JobSpec> = as<Job>(obj).spec ?? {};
    const was: Partial<JobSpec> = as<Job>(old).spec ?? {};
    const causes: Causes = [];
    const fixed = [
      "selector",
      "template",
      "completionMode",
      "podFailurePolicy",
      "backoffLimitPerIndex",
      "successPolicy",
    ] as const;
    for (const k of fixed) {
      if (!deepEqual(spec[k], was[k])) causes.push(immutable(`spec.${k}`, spec[k]));
    }
    // Completions may change only for an elastic Indexed Job (completions == parallelism).
    const elastic =
      spec.completionMode === "Indexed" &&
      spec.completions === spec.parallelism &&
      was.completions !== undefined;
    if (spec.completions !== was.completions && !elastic)
      causes.push(immutable("spec.completions", spec.completions));
    return causes;
  },
};

/** What a Job's spec gets when left out. */
function defaultJobSpec(spec: Mutable<JobSpec>): void {
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  // With a per-index limit the global one is off unless set (MaxInt32, as upstream defaults it).
  spec.backoffLimit ??= spec.backoffLimitPerIndex === undefined ? 6 : 2_147_483_647;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed";
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}
