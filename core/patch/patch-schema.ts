/**
 * Patch strategies of the built-in types (k8s.io/api v0.32 `patchStrategy`/`patchMergeKey` struct
 * tags), keyed by type and field, because the same field name means different things in
 * different places (`ports` in a Container merges on containerPort, in a ServiceSpec on port).
 * A field not listed here is a plain map (merged recursively) or an atomic list (replaced).
 */
export interface FieldPatch {
  /** Type of the field's value (or of each list item); absent = no further strategies below. */
  type?: string;
  /** List of objects merged item by item on this key. */
  mergeKey?: string;
  /** List of scalars merged as a set (metadata.finalizers). */
  primitiveMerge?: boolean;
}

export type TypePatch = Record<string, FieldPatch>;

const conditions: FieldPatch = { mergeKey: "type" };

export const TYPES: Record<string, TypePatch> = {
  ObjectMeta: {
    finalizers: { primitiveMerge: true },
    ownerReferences: { mergeKey: "uid" },
  },
  PodTemplateSpec: { metadata: { type: "ObjectMeta" }, spec: { type: "PodSpec" } },
  PodSpec: {
    containers: { mergeKey: "name", type: "Container" },
    initContainers: { mergeKey: "name", type: "Container" },
    ephemeralContainers: { mergeKey: "name", type: "Container" },
    volumes: { mergeKey: "name" },
    imagePullSecrets: { mergeKey: "name" },
    hostAliases: { mergeKey: "ip" },
    topologySpreadConstraints: { mergeKey: "topologyKey" },
    schedulingGates: { mergeKey: "name" },
    resourceClaims: { mergeKey: "name" },
  },
  Container: {
    env: { mergeKey: "name" },
    ports: { mergeKey: "containerPort" },
    volumeMounts: { mergeKey: "mountPath" },
    volumeDevices: { mergeKey: "devicePath" },
  },
  PodStatus: {
    conditions,
    podIPs: { mergeKey: "ip" },
    hostIPs: { mergeKey: "ip" },
  },
  WorkloadSpec: { template: { type: "PodTemplateSpec" } },
  WithConditions: { conditions },
  ServiceSpec: { ports: { mergeKey: "port" } },
  NodeSpec: { podCIDRs: { primitiveMerge: true } },
  NodeStatus: { conditions, addresses: { mergeKey: "type" } },
  JobTemplateSpec: { metadata: { type: "ObjectMeta" }, spec: { type: "WorkloadSpec" } },
  CronJobSpec: { jobTemplate: { type: "JobTemplateSpec" } },
};

/** Top-level fields per kind. Every kind has ObjectMeta. */
const KINDS: Record<string, TypePatch> = {
  Pod: { spec: { type: "PodSpec" }, status: { type: "PodStatus" } },
  Deployment: { spec: { type: "WorkloadSpec" }, status: { type: "WithConditions" } },
  ReplicaSet: { spec: { type: "WorkloadSpec" }, status: { type: "WithConditions" } },
  Service: { spec: { type: "ServiceSpec" }, status: { type: "WithConditions" } },
  Node: { spec: { type: "NodeSpec" }, status: { type: "NodeStatus" } },
  Namespace: { status: { type: "WithConditions" } },
  HorizontalPodAutoscaler: { status: { type: "WithConditions" } },
  PodDisruptionBudget: { status: { type: "WithConditions" } },
  ServiceAccount: { secrets: { mergeKey: "name" } },
  Job: { spec: { type: "WorkloadSpec" }, status: { type: "WithConditions" } },
  CronJob: { spec: { type: "CronJobSpec" } },
};

for (const [kind, fields] of Object.entries(KINDS))
  TYPES[kind] = { metadata: { type: "ObjectMeta" }, ...fields };
TYPES.Object = { metadata: { type: "ObjectMeta" } };

/** The root type name to patch an object of `kind` with (other kinds: metadata only). */
export function rootTypeOf(kind: string): string {
  return KINDS[kind] ? kind : "Object";
}

export function fieldPatch(type: string | undefined, field: string): FieldPatch | undefined {
  return type ? TYPES[type]?.[field] : undefined;
}
