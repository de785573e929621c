import type { StatefulSet } from "kubernetes-types/apps/v1";
import { deepEqual } from "../patch/deep-equal.ts";
import { type Causes, duplicate, forbidden, invalid, notSupported, required } from "./causes.ts";
import { dns1123Subdomain } from "./names.ts";
import { validateClaimSpec } from "./storage.ts";
import { validateWorkloadSpec } from "./workload.ts";

const POD_MANAGEMENT = ["OrderedReady", "Parallel"];
const UPDATE_TYPES = ["RollingUpdate", "OnDelete"];
const RETENTION = ["Retain", "Delete"];

const nonNegative = (field: string, v: number | undefined): Causes =>
  v !== undefined && (!Number.isInteger(v) || v < 0)
    ? [invalid(field, v, "must be greater than or equal to 0")]
    : [];

/** The spec as its pods see it: each volumeClaimTemplate is a volume the containers may mount. */
function withClaimVolumes(spec: StatefulSet["spec"]): StatefulSet["spec"] {
  const templates = spec?.volumeClaimTemplates ?? [];
  if (!spec?.template?.spec || !templates.length) return spec;
  const own = spec.template.spec.volumes ?? [];
  const extra = templates
    .map((t) => t.metadata?.name ?? "")
    .filter((name) => name && !own.some((v) => v.name === name))
    .map((name) => ({ name, persistentVolumeClaim: { claimName: name } }));
  return {
    ...spec,
    template: { ...spec.template, spec: { ...spec.template.spec, volumes: [...own, ...extra] } },
  };
}

/** apps/v1 StatefulSet spec, worded like kube-apiserver's ValidateStatefulSetSpec. */
export function validateStatefulSet(sts: StatefulSet): Causes {
  const spec = sts.spec;
  const causes = validateWorkloadSpec(withClaimVolumes(spec));
  if (!spec) return causes;
  if (spec.serviceName) {
    for (const m of dns1123Subdomain(spec.serviceName))
      causes.push(invalid("spec.serviceName", spec.serviceName, m));
  }
  if (spec.podManagementPolicy && !POD_MANAGEMENT.includes(spec.podManagementPolicy))
    causes.push(notSupported("spec.podManagementPolicy", spec.podManagementPolicy, POD_MANAGEMENT));
  const us = spec.updateStrategy;
  if (us?.type && !UPDATE_TYPES.includes(us.type))
    causes.push(notSupported("spec.updateStrategy.type", us.type, UPDATE_TYPES));
  if (us?.type === "OnDelete" && us.rollingUpdate)
    causes.push(
      forbidden("spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"),
    );
  causes.push(...nonNegative("spec.updateStrategy.rollingUpdate.partition", us?.rollingUpdate?.partition));
  causes.push(...nonNegative("spec.revisionHistoryLimit", spec.revisionHistoryLimit));
  causes.push(...nonNegative("spec.ordinals.start", spec.ordinals?.start));
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  for (const k of ["whenDeleted", "whenScaled"] as const) {
    const v = retention?.[k];
    if (v && !RETENTION.includes(v))
      causes.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, RETENTION));
  }
  const names = new Set<string>();
  for (const [i, t] of (spec.volumeClaimTemplates ?? []).entries()) {
    const f = `spec.volumeClaimTemplates[${i}]`;
    const name = t.metadata?.name;
    if (!name) causes.push(required(`${f}.metadata.name`));
    else {
      for (const m of dns1123Subdomain(name)) causes.push(invalid(`${f}.metadata.name`, name, m));
      if (names.has(name)) causes.push(duplicate(`${f}.metadata.name`, name));
      names.add(name);
    }
    causes.push(...validateClaimSpec(t.spec, `${f}.spec`));
  }
  // A pod volume of the same name as a claim template would hide the claim.
  for (const [i, v] of (spec.template?.spec?.volumes ?? []).entries()) {
    if (names.has(v.name) && !v.persistentVolumeClaim)
      causes.push(
        invalid(`spec.template.spec.volumes[${i}].name`, v.name, "conflicts with a volumeClaimTemplate"),
      );
  }
  return causes;
}

/** Only replicas, ordinals, template, updateStrategy, the claim retention policy and minReadySeconds may change. */
export function validateStatefulSetUpdate(sts: StatefulSet, old: StatefulSet): Causes {
  const strip = (s: StatefulSet["spec"]) => {
    const {
      replicas: _r,
      ordinals: _o,
      template: _t,
      updateStrategy: _u,
      persistentVolumeClaimRetentionPolicy: _p,
      minReadySeconds: _m,
      ...rest
    } = s ?? ({} as NonNullable<StatefulSet["spec"]>);
    return rest;
  };
  if (deepEqual(strip(sts.spec), strip(old.spec))) return [];
  return [
    forbidden(
      "spec",
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}
