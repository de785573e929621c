import type { Deployment } from "kubernetes-types/apps/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { type Causes, forbidden, immutable, invalid, notSupported } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validateWorkloadSpec } from "../../validation/workload.ts";
import { as, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

const STRATEGY_TYPES = ["RollingUpdate", "Recreate"];

export const deploymentStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  defaults(obj) {
    const spec = as<Deployment>(obj).spec;
    if (!spec) return;
    spec.replicas ??= 1;
    spec.strategy ??= {};
    spec.strategy.type ??= "RollingUpdate";
    if (spec.strategy.type === "RollingUpdate") {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
      spec.strategy.rollingUpdate.maxSurge ??= "25%";
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  },
  validate(obj) {
    const spec = as<Deployment>(obj).spec;
    const causes: Causes = validateWorkloadSpec(spec);
    const strategy = spec?.strategy;
    if (strategy?.type && !STRATEGY_TYPES.includes(strategy.type)) {
      causes.push(notSupported("spec.strategy.type", strategy.type, STRATEGY_TYPES));
    }
    if (strategy?.type === "Recreate" && strategy.rollingUpdate) {
      causes.push(
        forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"),
      );
    }
    const ru = strategy?.rollingUpdate;
    if (ru && isZero(ru.maxSurge) && isZero(ru.maxUnavailable)) {
      causes.push(
        invalid(
          "spec.strategy.rollingUpdate.maxUnavailable",
          ru.maxUnavailable,
          "may not be 0 when `maxSurge` is 0",
        ),
      );
    }
    const rhl = spec?.revisionHistoryLimit;
    if (rhl !== undefined && rhl < 0)
      causes.push(invalid("spec.revisionHistoryLimit", rhl, "must be greater than or equal to 0"));
    const pds = spec?.progressDeadlineSeconds;
    if (pds !== undefined && pds <= (spec?.minReadySeconds ?? 0)) {
      causes.push(invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"));
    }
    return causes;
  },
  validateUpdate(obj, old) {
    const sel = as<Deployment>(obj).spec?.selector;
    return deepEqual(sel, as<Deployment>(old).spec?.selector) ? [] : [immutable("spec.selector", sel)];
  },
};

function isZero(v: string | number | undefined): boolean {
  return v === 0 || v === "0" || v === "0%";
}
