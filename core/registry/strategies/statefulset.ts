import type { StatefulSet } from "kubernetes-types/apps/v1";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validateStatefulSet, validateStatefulSetUpdate } from "../../validation/statefulset.ts";
import { as, type Strategy } from "../strategy.ts";
import { defaultPodSpec } from "./pod-spec-defaults.ts";

export const statefulSetStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
  },
  defaults(obj) {
    const spec = as<StatefulSet>(obj).spec;
    if (!spec) return;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= "OrderedReady";
    spec.updateStrategy ??= {};
    spec.updateStrategy.type ??= "RollingUpdate";
    if (spec.updateStrategy.type === "RollingUpdate") {
      spec.updateStrategy.rollingUpdate ??= {};
      spec.updateStrategy.rollingUpdate.partition ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    spec.persistentVolumeClaimRetentionPolicy ??= {};
    spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= "Retain";
    spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= "Retain";
    for (const t of spec.volumeClaimTemplates ?? []) if (t.spec) t.spec.volumeMode ??= "Filesystem";
    if (spec.template?.spec) defaultPodSpec(spec.template.spec);
  },
  validate: (obj) => validateStatefulSet(as<StatefulSet>(obj)),
  validateUpdate: (obj, old) => validateStatefulSetUpdate(as<StatefulSet>(obj), as<StatefulSet>(old)),
};
