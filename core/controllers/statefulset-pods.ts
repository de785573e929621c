import type { StatefulSet } from "kubernetes-types/apps/v1";
import type { PersistentVolumeClaim, Pod, PodTemplateSpec } from "kubernetes-types/core/v1";
import { REVISION_HASH_LABEL } from "./controller-revisions.ts";
import { type Kube, ownerReferenceTo } from "./owner-references.ts";

/**
 * What a StatefulSet's pods and claims look like (Kubernetes' stateful_set_utils.go): pod
 * `<set>-<ordinal>` with hostname and subdomain for per-pod DNS, one claim per template and
 * ordinal named `<template>-<set>-<ordinal>`.
 */
export type Sts = Kube<StatefulSet>;
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";

export function podName(sts: Sts, ordinal: number): string {
  return `${sts.metadata.name}-${ordinal}`;
}

/** The ordinal in a pod's name, or -1 when the name is not `<set>-<n>`. */
export function ordinalOf(sts: Sts, pod: Pod): number {
  const name = pod.metadata?.name ?? "";
  const prefix = `${sts.metadata.name}-`;
  if (!name.startsWith(prefix)) return -1;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

export function claimName(template: string, sts: Sts, ordinal: number): string {
  return `${template}-${sts.metadata.name}-${ordinal}`;
}

/** The claims pod `ordinal` needs, built from volumeClaimTemplates. */
export function claimsFor(sts: Sts, ordinal: number): Kube<PersistentVolumeClaim>[] {
  const whenDeleted = sts.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? "Retain";
  return (sts.spec?.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claimName(t.metadata?.name ?? "", sts, ordinal),
      namespace: sts.metadata.namespace,
      labels: { ...t.metadata?.labels, ...sts.spec?.selector?.matchLabels },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(whenDeleted === "Delete"
        ? { ownerReferences: [{ ...ownerReferenceTo(sts), controller: false }] }
        : {}),
    },
    spec: structuredClone(t.spec ?? {}),
  }));
}

/** Pod `ordinal` from `template` (the current or the update revision's), labelled with that revision. */
export function newPod(
  sts: Sts,
  ordinal: number,
  template: PodTemplateSpec,
  revisionName: string,
): Kube<Pod> {
  const name = podName(sts, ordinal);
  const spec = structuredClone(template.spec ?? { containers: [] });
  const claimVolumes = (sts.spec?.volumeClaimTemplates ?? []).map((t) => ({
    name: t.metadata?.name ?? "",
    persistentVolumeClaim: { claimName: claimName(t.metadata?.name ?? "", sts, ordinal) },
  }));
  const claimed = new Set(claimVolumes.map((v) => v.name));
  spec.volumes = [...(spec.volumes ?? []).filter((v) => !claimed.has(v.name)), ...claimVolumes];
  if (!spec.volumes.length) delete spec.volumes;
  spec.hostname = name;
  if (sts.spec?.serviceName) spec.subdomain = sts.spec.serviceName;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      labels: {
        ...template.metadata?.labels,
        [REVISION_HASH_LABEL]: revisionName,
        [POD_NAME_LABEL]: name,
        [POD_INDEX_LABEL]: String(ordinal),
      },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerReferenceTo(sts)],
    },
    spec,
  };
}
