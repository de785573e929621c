import type { JobSpec, PodFailurePolicyRule } from "kubernetes-types/batch/v1";
import { labelSelectorFromObject } from "../selectors.ts";
import { type Causes, forbidden, invalid, notSupported, required } from "./causes.ts";
import { validateIndexPolicies } from "./job-indexes.ts";
import { validateLabels } from "./object-meta.ts";
import { validatePodSpec } from "./pod-spec.ts";

const RESTART_POLICIES = ["OnFailure", "Never"];
const COMPLETION_MODES = ["NonIndexed", "Indexed"];
const RULE_ACTIONS = ["FailJob", "FailIndex", "Ignore", "Count"];
const EXIT_CODE_OPERATORS = ["In", "NotIn"];
/** Kubernetes' cap on completions and parallelism of an Indexed Job. */
export const MAX_INDEXED_COMPLETIONS = 100_000;

/**
 * A JobSpec at `path` (`spec` for a Job, `spec.jobTemplate.spec` for a CronJob), as
 * pkg/apis/batch/validation checks it. A Job's selector is required (the registry generates
 * it); a CronJob's job template has none.
 */
export function validateJobSpec(spec: JobSpec | undefined, path: string, selectorRequired: boolean): Causes {
  if (!spec) return [required(path)];
  const causes: Causes = [];
  for (const k of ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit"] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      causes.push(invalid(`${path}.${k}`, v, "must be greater than or equal to 0"));
  }
  const ttl = spec.ttlSecondsAfterFinished;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0))
    causes.push(invalid(`${path}.ttlSecondsAfterFinished`, ttl, "must be greater than or equal to 0"));
  const mode = spec.completionMode;
  if (mode !== undefined && !COMPLETION_MODES.includes(mode))
    causes.push(notSupported(`${path}.completionMode`, mode, COMPLETION_MODES));
  if (mode === "Indexed") {
    if (spec.completions === undefined)
      causes.push(required(`${path}.completions`, "when completion mode is Indexed"));
    for (const k of ["completions", "parallelism"] as const) {
      const v = spec[k];
      if (v !== undefined && v > MAX_INDEXED_COMPLETIONS)
        causes.push(invalid(`${path}.${k}`, v, `must be less than or equal to ${MAX_INDEXED_COMPLETIONS}`));
    }
  }
  causes.push(...validateIndexPolicies(spec, path));
  const { selector, template } = spec;
  if (selectorRequired && !selector) causes.push(required(`${path}.selector`));
  if (selector) {
    try {
      const s = labelSelectorFromObject(selector);
      if (template && !s.matches(template.metadata?.labels))
        causes.push(
          invalid(
            `${path}.template.metadata.labels`,
            template.metadata?.labels ?? {},
            "`selector` does not match template `labels`",
          ),
        );
    } catch (e) {
      causes.push(invalid(`${path}.selector`, selector, (e as Error).message));
    }
  }
  if (!template) return [...causes, required(`${path}.template`)];
  causes.push(...validateLabels(template.metadata?.labels, `${path}.template.metadata.labels`));
  causes.push(...validatePodSpec(template.spec, `${path}.template.spec`));
  const rp = template.spec?.restartPolicy;
  if (!rp) causes.push(required(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  else if (!RESTART_POLICIES.includes(rp))
    causes.push(notSupported(`${path}.template.spec.restartPolicy`, rp, RESTART_POLICIES));
  if (spec.podFailurePolicy) {
    if (rp !== "Never")
      causes.push(
        invalid(
          `${path}.template.spec.restartPolicy`,
          rp,
          'only "Never" is supported when podFailurePolicy is specified',
        ),
      );
    for (const [i, rule] of (spec.podFailurePolicy.rules ?? []).entries())
      causes.push(...validateRule(rule, `${path}.podFailurePolicy.rules[${i}]`, spec));
  }
  return causes;
}

function validateRule(rule: PodFailurePolicyRule, path: string, spec: JobSpec): Causes {
  const causes: Causes = [];
  if (!RULE_ACTIONS.includes(rule.action))
    causes.push(notSupported(`${path}.action`, rule.action, RULE_ACTIONS));
  if (rule.action === "FailIndex" && spec.backoffLimitPerIndex === undefined)
    causes.push(forbidden(`${path}.action`, "requires the backoffLimitPerIndex to be set"));
  const codes = rule.onExitCodes;
  const conditions = rule.onPodConditions;
  if (codes && conditions?.length)
    causes.push(invalid(path, "", "specifying both OnExitCodes and OnPodConditions is not supported"));
  else if (!codes && !conditions?.length)
    causes.push(invalid(path, "", "specifying one of OnExitCodes and OnPodConditions is required"));
  if (codes) {
    if (!EXIT_CODE_OPERATORS.includes(codes.operator))
      causes.push(notSupported(`${path}.onExitCodes.operator`, codes.operator, EXIT_CODE_OPERATORS));
    if (!codes.values?.length) causes.push(required(`${path}.onExitCodes.values`));
    for (const [i, v] of (codes.values ?? []).entries()) {
      if (codes.operator === "In" && v === 0)
        causes.push(invalid(`${path}.onExitCodes.values[${i}]`, v, "must not be 0 for the In operator"));
    }
  }
  for (const [i, c] of (conditions ?? []).entries()) {
    if (!c.type) causes.push(required(`${path}.onPodConditions[${i}].type`));
    if (c.status && !["True", "False", "Unknown"].includes(c.status))
      causes.push(
        notSupported(`${path}.onPodConditions[${i}].status`, c.status, ["True", "False", "Unknown"]),
      );
  }
  return causes;
}
