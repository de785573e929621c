import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import { type Kube, ownerReferenceTo } from "./owner-references.ts";
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH } from "./pod-template-hash.ts";
import { desiredReplicas, maxSurge } from "./rollout-math.ts";

/** How a Deployment's ReplicaSets are named, annotated and told apart (new vs old). */
export const REVISION = "deployment.kubernetes.io/revision";
export const REVISION_HISTORY = "deployment.kubernetes.io/revision-history";
export const DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas";
export const MAX_REPLICAS = "deployment.kubernetes.io/max-replicas";

/** Deployment annotations that stay on the Deployment (Kubernetes' skipCopyAnnotation). */
const NOT_COPIED = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  "deprecated.deployment.rollback.to",
]);

export type RS = Kube<ReplicaSet>;
export type Deploy = Kube<Deployment>;

export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number {
  return Number(obj.metadata.annotations?.[REVISION] ?? 0) || 0;
}

export function replicasOf(rs: ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

export function sumReplicas(
  list: (ReplicaSet | undefined)[],
  of: (rs: ReplicaSet) => number = replicasOf,
): number {
  return list.reduce((n, rs) => n + (rs ? of(rs) : 0), 0);
}

/** Oldest first, by creation time then name, so "the first matching" is stable. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  return ta - tb || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "");
}

/** The ReplicaSet whose template equals the Deployment's, ignoring the hash label. */
export function findNewReplicaSet(d: Deploy, list: RS[]): RS | undefined {
  return [...list].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/**
 * The annotations the new ReplicaSet should carry (Kubernetes' SetNewReplicaSetAnnotations): the
 * Deployment's own (such as kubernetes.io/change-cause) and the revision, moved forward when an
 * old ReplicaSet becomes new again (a rollback). desired/max-replicas change only with scaling.
 */
export function replicaSetAnnotations(
  d: Deploy,
  rs: RS | undefined,
  revision: number,
): Record<string, string> {
  const out: Record<string, string> = { ...rs?.metadata.annotations };
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  const old = rs ? revisionOf(rs) : 0;
  if (old && old < revision) {
    out[REVISION_HISTORY] = out[REVISION_HISTORY] ? `${out[REVISION_HISTORY]},${old}` : String(old);
  }
  if (!old || old < revision) out[REVISION] = String(revision);
  return out;
}

export function replicasAnnotations(d: Deploy): Record<string, string> {
  return {
    [DESIRED_REPLICAS]: String(desiredReplicas(d)),
    [MAX_REPLICAS]: String(desiredReplicas(d) + maxSurge(d)),
  };
}

/** A new ReplicaSet for the Deployment's current template: `<deployment>-<pod-template-hash>`. */
export function newReplicaSetFor(d: Deploy, replicas: number, revision: number): RS {
  const hash = computeHash(d.spec?.template, d.status?.collisionCount);
  const template = structuredClone(d.spec?.template ?? {});
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash },
  };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...template.metadata.labels },
      annotations: { ...replicaSetAnnotations(d, undefined, revision), ...replicasAnnotations(d) },
      ownerReferences: [ownerReferenceTo(d)],
    },
    spec: {
      replicas,
      minReadySeconds: d.spec?.minReadySeconds ?? 0,
      selector,
      template,
    },
  };
}
