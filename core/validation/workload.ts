import type { PodTemplateSpec } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import { labelSelectorFromObject } from "../selectors.ts";
import { type Causes, invalid, notSupported, required } from "./causes.ts";
import { validateLabels } from "./object-meta.ts";
import { validatePodSpec } from "./pod-spec.ts";

const INT32_MAX = 2 ** 31 - 1;

/**
 * The parts Deployments and ReplicaSets share: a non-empty selector that matches the pod
 * template's labels, a valid template with restartPolicy Always, replicas ≥ 0.
 */
export function validateWorkloadSpec(
  spec:
    | { selector?: LabelSelector; template?: PodTemplateSpec; replicas?: number; minReadySeconds?: number }
    | undefined,
): Causes {
  if (!spec) return [required("spec")];
  const causes: Causes = [];
  const { selector, template } = spec;
  if (!selector) causes.push(required("spec.selector"));
  else if (!selector.matchLabels && !selector.matchExpressions?.length) {
    causes.push(invalid("spec.selector", selector, "empty selector is invalid for deployment"));
  } else {
    causes.push(...validateLabels(selector.matchLabels, "spec.selector.matchLabels"));
    try {
      const s = labelSelectorFromObject(selector);
      if (template && !s.matches(template.metadata?.labels)) {
        causes.push(
          invalid(
            "spec.template.metadata.labels",
            template.metadata?.labels ?? {},
            "`selector` does not match template `labels`",
          ),
        );
      }
    } catch (e) {
      causes.push(invalid("spec.selector", selector, (e as Error).message));
    }
  }
  if (!template) causes.push(required("spec.template"));
  else {
    causes.push(...validateLabels(template.metadata?.labels, "spec.template.metadata.labels"));
    causes.push(...validatePodSpec(template.spec, "spec.template.spec"));
    const rp = template.spec?.restartPolicy;
    if (rp && rp !== "Always") causes.push(notSupported("spec.template.spec.restartPolicy", rp, ["Always"]));
  }
  for (const k of ["replicas", "minReadySeconds"] as const) {
    const v = spec[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      causes.push(invalid(`spec.${k}`, v, "must be greater than or equal to 0"));
    else if (v !== undefined && v > INT32_MAX)
      causes.push(invalid(`spec.${k}`, v, `must be less than or equal to ${INT32_MAX}`));
  }
  return causes;
}
