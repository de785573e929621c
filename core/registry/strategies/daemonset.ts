import type { DaemonSet } from "kubernetes-types/apps/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { immutable } from "../../validation/causes.ts";
import { validateDaemonSet } from "../../validation/daemonset.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { as, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

export const daemonSetStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  defaults(obj) {
    const spec = as<DaemonSet>(obj).spec;
    if (!spec) return;
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ??= "RollingUpdate";
    if (spec.updateStrategy.type === "RollingUpdate") {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  },
  validate: (obj) => validateDaemonSet(as<DaemonSet>(obj)),
  validateUpdate(obj, old) {
    const sel = as<DaemonSet>(obj).spec?.selector;
    return deepEqual(sel, as<DaemonSet>(old).spec?.selector) ? [] : [immutable("spec.selector", sel)];
  },
};
