import type { LimitRange, LimitRangeItem, PodTemplate } from "kubernetes-types/core/v1";
import type { PriorityClass } from "kubernetes-types/scheduling/v1";
import { validateLimitRange } from "../../validation/limit-range.ts";
import { validatePodSpec } from "../../validation/pod-spec.ts";
import { validateResourceQuota } from "../../validation/resource-quota.ts";
import {
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateRuntimeClass,
  validateRuntimeClassUpdate,
} from "../../validation/scheduling.ts";
import { as, type Mutable, type Strategy } from "../strategy.ts";
import { genericStrategy, specLessStrategy } from "./generic.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

/**
 * The kinds a chart may carry beside its workloads — PodTemplate, LimitRange, ResourceQuota,
 * PriorityClass, RuntimeClass: stored with upstream's defaults and validation; LimitRange,
 * ResourceQuota and PriorityClass act on pods at admission (core/registry/pod-policy-admission.ts).
 */
export const podTemplateStrategy: Strategy = {
  ...specLessStrategy,
  defaults(obj) {
    const spec = as<PodTemplate>(obj).template?.spec;
    if (spec) defaultPodSpec(spec);
  },
  validate: (obj) => validatePodSpec((obj as unknown as PodTemplate).template?.spec, "template.spec"),
};

export const limitRangeStrategy: Strategy = {
  ...genericStrategy,
  defaults(obj) {
    for (const item of as<LimitRange>(obj).spec?.limits ?? []) defaultLimitRangeItem(item);
  },
  validate: validateLimitRange,
};

/**
 * Upstream's SetDefaults_LimitRangeItem for Container items: the default limit falls back to
 * max, the default request to the default limit, then to min.
 */
function defaultLimitRangeItem(item: Mutable<LimitRangeItem>): void {
  if (item.type !== "Container") return;
  item.default ??= {};
  item.defaultRequest ??= {};
  for (const [name, q] of Object.entries(item.max ?? {})) item.default[name] ??= q;
  for (const [name, q] of Object.entries(item.default)) item.defaultRequest[name] ??= q;
  for (const [name, q] of Object.entries(item.min ?? {})) item.defaultRequest[name] ??= q;
}

export const resourceQuotaStrategy: Strategy = {
  ...genericStrategy,
  prepareForCreate(obj) {
    delete obj.status;
  },
  validate: validateResourceQuota,
};

export const priorityClassStrategy: Strategy = {
  ...specLessStrategy,
  defaults(obj) {
    as<PriorityClass>(obj).preemptionPolicy ??= "PreemptLowerPriority";
  },
  validate: validatePriorityClass,
  validateUpdate: validatePriorityClassUpdate,
};

export const runtimeClassStrategy: Strategy = {
  ...specLessStrategy,
  validate: validateRuntimeClass,
  validateUpdate: validateRuntimeClassUpdate,
};
