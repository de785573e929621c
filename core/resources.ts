/**
 * The kinds minik serves. Everything that needs to know "which resources exist" — the store keys,
 * the API routes, discovery, OpenAPI, the CLI's kind aliases — reads this one table.
 */
export interface ResourceInfo {
  /** API group; "" for the core group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural resource name as used in URLs. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: string[];
}

function r(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  categories: string[] = [],
  subresources: string[] = [],
): ResourceInfo {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames,
    categories,
    subresources,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r("", "v1", "Namespace", "namespaces", false, ["ns"], [], ["status"]),
  r("", "v1", "Node", "nodes", false, ["no"], [], ["status"]),
  r(
    "",
    "v1",
    "Pod",
    "pods",
    true,
    ["po"],
    ["all"],
    ["status", "log", "exec", "attach", "portforward", "eviction", "binding"],
  ),
  r("", "v1", "Service", "services", true, ["svc"], ["all"], ["status", "proxy"]),
  r("", "v1", "Endpoints", "endpoints", true, ["ep"]),
  r("", "v1", "Event", "events", true, ["ev"]),
  r("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
  r("", "v1", "Secret", "secrets", true),
  r("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"], [], ["token"]),
  r("", "v1", "PersistentVolume", "persistentvolumes", false, ["pv"], [], ["status"]),
  r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, ["pvc"], [], ["status"]),
  r("", "v1", "PodTemplate", "podtemplates", true),
  r("", "v1", "LimitRange", "limitranges", true, ["limits"]),
  r("", "v1", "ResourceQuota", "resourcequotas", true, ["quota"], [], ["status"]),
  r("apps", "v1", "Deployment", "deployments", true, ["deploy"], ["all"], ["status", "scale"]),
  r("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"], ["all"], ["status", "scale"]),
  r("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"], ["all"], ["status", "scale"]),
  r("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"], ["all"], ["status"]),
  r("apps", "v1", "ControllerRevision", "controllerrevisions", true),
  r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true),
  r(
    "autoscaling",
    "v2",
    "HorizontalPodAutoscaler",
    "horizontalpodautoscalers",
    true,
    ["hpa"],
    ["all"],
    ["status"],
  ),
  r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, ["pdb"], [], ["status"]),
  r("networking.k8s.io", "v1", "Ingress", "ingresses", true, ["ing"], [], ["status"]),
  r("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false),
  r("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, ["sc"]),
  r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, ["netpol"]),
  r("batch", "v1", "Job", "jobs", true, [], ["all"], ["status"]),
  r("batch", "v1", "CronJob", "cronjobs", true, ["cj"], ["all"], ["status"]),
  r("coordination.k8s.io", "v1", "Lease", "leases", true),
  r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, ["pc"]),
  r("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),
  r("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
  r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true),
  r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  r(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    false,
    ["crd", "crds"],
    ["api-extensions"],
    ["status"],
  ),
];

/** Store key of a resource: `pods`, `deployments.apps`. */
export function resourceKey(info: Pick<ResourceInfo, "plural" | "group">): string {
  return info.group ? `${info.plural}.${info.group}` : info.plural;
}

export function apiVersionOf(info: Pick<ResourceInfo, "group" | "version">): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** Groups whose old versions are still accepted and rewritten to the served version. */
export const LEGACY_API_VERSIONS: Record<string, Record<string, string>> = {
  "extensions/v1beta1": { Deployment: "apps/v1", ReplicaSet: "apps/v1" },
  "apps/v1beta1": { Deployment: "apps/v1", StatefulSet: "apps/v1" },
  "apps/v1beta2": {
    Deployment: "apps/v1",
    ReplicaSet: "apps/v1",
    StatefulSet: "apps/v1",
    DaemonSet: "apps/v1",
  },
  "autoscaling/v1": { HorizontalPodAutoscaler: "autoscaling/v2" },
};

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  const served = LEGACY_API_VERSIONS[apiVersion]?.[kind] ?? apiVersion;
  return RESOURCES.find((x) => x.kind === kind && apiVersionOf(x) === served);
}

export function findByPlural(group: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.plural === plural);
}

/** Resolves what a person types (`deploy`, `pods`, `pod`, `deployments.apps`) to a resource. */
export function findByAlias(name: string): ResourceInfo | undefined {
  const n = name.toLowerCase();
  const [base, ...groupParts] = n.split(".");
  const group = groupParts.join(".");
  return RESOURCES.find(
    (x) =>
      (group === "" || x.group === group) &&
      (x.plural === base ||
        x.singular === base ||
        x.shortNames.includes(base!) ||
        x.kind.toLowerCase() === base),
  );
}
