import type { HorizontalPodAutoscaler } from "kubernetes-types/autoscaling/v2";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { type Causes, forbidden, invalid, required } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validateLabels } from "../../validation/object-meta.ts";
import { as, type Strategy } from "../strategy.ts";

/** HorizontalPodAutoscaler (autoscaling/v2): a target to scale and sane replica bounds. */
export const hpaStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  validate(obj) {
    const spec = as<HorizontalPodAutoscaler>(obj).spec;
    if (!spec) return [required("spec")];
    const causes: Causes = [];
    for (const k of ["kind", "name"] as const) {
      if (!spec.scaleTargetRef?.[k]) causes.push(required(`spec.scaleTargetRef.${k}`));
    }
    const { minReplicas = 1, maxReplicas } = spec;
    if (!Number.isInteger(maxReplicas) || maxReplicas < 1) {
      causes.push(invalid("spec.maxReplicas", maxReplicas, "must be greater than or equal to 1"));
    } else if (minReplicas > maxReplicas) {
      causes.push(invalid("spec.maxReplicas", maxReplicas, "must be greater than or equal to `minReplicas`"));
    }
    if (minReplicas < 1)
      causes.push(invalid("spec.minReplicas", minReplicas, "must be greater than or equal to 1"));
    return causes;
  },
};

/** PodDisruptionBudget (policy/v1): minAvailable or maxUnavailable, not both. */
export const pdbStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  validate(obj) {
    const spec = as<PodDisruptionBudget>(obj).spec;
    if (!spec) return [];
    const causes: Causes = validateLabels(spec.selector?.matchLabels, "spec.selector.matchLabels");
    if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
      causes.push(forbidden("spec", "minAvailable and maxUnavailable cannot be both set"));
    }
    for (const k of ["minAvailable", "maxUnavailable"] as const) {
      const v = spec[k];
      if (typeof v === "number" && v < 0)
        causes.push(invalid(`spec.${k}`, v, "must be greater than or equal to 0"));
      if (typeof v === "string" && !/^\d+%$/.test(v))
        causes.push(
          invalid(
            `spec.${k}`,
            v,
            "a valid percent string must be a numeric string followed by an ending '%'",
          ),
        );
    }
    return causes;
  },
};
