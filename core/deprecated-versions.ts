import type { KubeObject } from "./object.ts";
import type { ResourceInfo } from "./resources.ts";

/**
 * Deployments in the group-versions Kubernetes removed in 1.16 (extensions/v1beta1,
 * apps/v1beta1, apps/v1beta2), still served by minik so old manifests apply: each is converted to
 * the stored apps/v1 object with the defaults of its own version, and back on the way out, and
 * every answer carries the deprecation warning kube-apiserver 1.15 sent.
 */
export interface DeprecatedVersion {
  info: ResourceInfo;
  /** apiVersion of the stored object. */
  storedAs: string;
  /** The version's own defaults, applied before conversion (kube-apiserver defaults on decode). */
  defaults(obj: KubeObject): void;
  /** The version still has `spec.rollbackTo` (kept in an annotation on apps/v1, as upstream does). */
  rollbackTo: boolean;
}

/** Annotation that carries extensions/v1beta1 and apps/v1beta1 `spec.rollbackTo.revision` on apps/v1. */
export const ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to";

const MAX_INT32 = 2147483647;

type Spec = {
  replicas?: number;
  selector?: unknown;
  template?: { metadata?: { labels?: Record<string, string> } };
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  rollbackTo?: { revision?: number };
};

interface OldDefaults {
  /** extensions/v1beta1 and apps/v1beta1 default selector and labels from the template's labels. */
  fromTemplateLabels: boolean;
  surge: number | string;
  revisionHistoryLimit: number;
  progressDeadlineSeconds: number;
}

function deploymentDefaults(d: OldDefaults): (obj: KubeObject) => void {
  return (obj) => {
    obj.spec ??= {};
    const spec = obj.spec as Spec;
    const labels = spec.template?.metadata?.labels;
    if (d.fromTemplateLabels && labels) {
      spec.selector ??= { matchLabels: { ...labels } };
      obj.metadata ??= {};
      if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0)
        obj.metadata.labels = { ...labels };
    }
    spec.replicas ??= 1;
    spec.strategy ??= {};
    spec.strategy.type ||= "RollingUpdate";
    if (spec.strategy.type === "RollingUpdate" || spec.strategy.rollingUpdate) {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= d.surge;
      spec.strategy.rollingUpdate.maxSurge ??= d.surge;
    }
    spec.revisionHistoryLimit ??= d.revisionHistoryLimit;
    spec.progressDeadlineSeconds ??= d.progressDeadlineSeconds;
  };
}

function deployment(group: string, version: string): ResourceInfo {
  return {
    group,
    version,
    kind: "Deployment",
    listKind: "DeploymentList",
    plural: "deployments",
    singular: "deployment",
    namespaced: true,
    // no short names or categories: `kubectl get deploy` and `get all` keep meaning apps/v1
    shortNames: [],
    categories: [],
    subresources: ["status", "scale"],
  };
}

export const DEPRECATED_VERSIONS: readonly DeprecatedVersion[] = [
  {
    info: deployment("apps", "v1beta2"),
    storedAs: "apps/v1",
    rollbackTo: false,
    defaults: deploymentDefaults({
      fromTemplateLabels: false,
      surge: "25%",
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    }),
  },
  {
    info: deployment("apps", "v1beta1"),
    storedAs: "apps/v1",
    rollbackTo: true,
    defaults: deploymentDefaults({
      fromTemplateLabels: true,
      surge: "25%",
      revisionHistoryLimit: 2,
      progressDeadlineSeconds: 600,
    }),
  },
  {
    info: deployment("extensions", "v1beta1"),
    storedAs: "apps/v1",
    rollbackTo: true,
    defaults: deploymentDefaults({
      fromTemplateLabels: true,
      surge: 1,
      revisionHistoryLimit: MAX_INT32,
      progressDeadlineSeconds: MAX_INT32,
    }),
  },
];

export function apiVersionOfDeprecated(v: DeprecatedVersion): string {
  return `${v.info.group}/${v.info.version}`;
}

export function findDeprecated(apiVersion: string, kind: string): DeprecatedVersion | undefined {
  return DEPRECATED_VERSIONS.find((v) => v.info.kind === kind && apiVersionOfDeprecated(v) === apiVersion);
}

/** The `Warning` kube-apiserver 1.15 sent with every answer about these objects. */
export function deprecationWarning(v: DeprecatedVersion): string {
  return `${apiVersionOfDeprecated(v)} ${v.info.kind} is deprecated in v1.9+, unavailable in v1.16+; use ${v.storedAs} ${v.info.kind}`;
}

/**
 * The object as sent in the old version → the stored version (defaults of the old version first),
 * in place.
 */
export function toStored(v: DeprecatedVersion, obj: KubeObject): KubeObject {
  obj.metadata ??= {};
  v.defaults(obj);
  const spec = obj.spec as Spec;
  const revision = spec.rollbackTo?.revision;
  delete spec.rollbackTo;
  if (v.rollbackTo && revision !== undefined) {
    obj.metadata.annotations = { ...obj.metadata.annotations, [ROLLBACK_TO_ANNOTATION]: String(revision) };
  }
  obj.apiVersion = v.storedAs;
  return obj;
}

/** The stored object as the old version shows it. */
export function fromStored(v: DeprecatedVersion, stored: KubeObject): KubeObject {
  const obj: KubeObject = { ...stored, apiVersion: apiVersionOfDeprecated(v), kind: v.info.kind };
  const revision = stored.metadata?.annotations?.[ROLLBACK_TO_ANNOTATION];
  if (v.rollbackTo && revision !== undefined && obj.spec) {
    const { [ROLLBACK_TO_ANNOTATION]: _, ...annotations } = stored.metadata.annotations!;
    obj.metadata = { ...stored.metadata, annotations };
    if (Object.keys(annotations).length === 0) delete obj.metadata.annotations;
    obj.spec = { ...(obj.spec as object), rollbackTo: { revision: Number(revision) } };
  }
  return obj;
}
