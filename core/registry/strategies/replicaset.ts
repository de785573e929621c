import type { ReplicaSet } from "kubernetes-types/apps/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { immutable } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validateWorkloadSpec } from "../../validation/workload.ts";
import { as, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

export const replicaSetStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  defaults(obj) {
    const spec = as<ReplicaSet>(obj).spec;
    if (!spec) return;
    spec.replicas ??= 1;
    if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  },
  validate: (obj) => validateWorkloadSpec(as<ReplicaSet>(obj).spec),
  validateUpdate(obj, old) {
    const sel = as<ReplicaSet>(obj).spec?.selector;
    return deepEqual(sel, as<ReplicaSet>(old).spec?.selector) ? [] : [immutable("spec.selector", sel)];
  },
};
