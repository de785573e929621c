import type {
  Container,
  Pod,
  ResourceQuota,
  ScopedResourceSelectorRequirement,
} from "kubernetes-types/core/v1";
import type { KubeObject } from "./object.ts";
import { cpuMillis, formatCpuMillis, quantityValue } from "./quantity.ts";

/**
 * What a ResourceQuota counts, as upstream's quota evaluators count it: object counts
 * (`pods`, `services`, `configmaps`, `secrets`, `persistentvolumeclaims`, `count/<resource>`),
 * the compute requests and limits of pods that are not finished, and the storage PVCs request.
 * Amounts are numbers in base units (millicores for cpu, bytes for memory and storage).
 */
export type Usage = Map<string, number>;

/** Quota name → the store key of the objects it counts. */
const COUNTED: Record<string, string> = {
  pods: "pods",
  services: "services",
  configmaps: "configmaps",
  secrets: "secrets",
  persistentvolumeclaims: "persistentvolumeclaims",
  resourcequotas: "resourcequotas",
};

const COMPUTE = new Set(["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]);

/** The store key whose objects `name` counts (`count/deployments.apps` → deployments.apps). */
export function countedResource(name: string): string | undefined {
  if (name.startsWith("count/")) return name.slice("count/".length);
  return COUNTED[name];
}

/** The store keys whose objects the quota's `hard` names need. */
export function resourcesFor(hard: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const name of hard) {
    const counted = countedResource(name);
    if (counted) out.add(counted);
    if (COMPUTE.has(name)) out.add("pods");
    if (name === "requests.storage") out.add("persistentvolumeclaims");
    if (name.startsWith("services.")) out.add("services");
  }
  return out;
}

/** A pod counts while it runs or waits: finished ones free their share. */
export function podCounts(pod: KubeObject): boolean {
  const phase = (pod as unknown as Pod).status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}

/** What one object adds to the names of `hard` (a create's request). */
export function usageOf(resource: string, obj: KubeObject, hard: Iterable<string>): Usage {
  const out: Usage = new Map();
  for (const name of hard) {
    const counted = countedResource(name);
    if (counted === resource && (resource !== "pods" || podCounts(obj))) out.set(name, 1);
    if (resource === "pods" && COMPUTE.has(name) && podCounts(obj)) out.set(name, podAmount(obj, name));
    if (resource === "services" && name === "services.nodeports") out.set(name, nodePorts(obj));
    if (resource === "services" && name === "services.loadbalancers")
      out.set(name, serviceType(obj) === "LoadBalancer" ? 1 : 0);
    if (resource === "persistentvolumeclaims" && name === "requests.storage")
      out.set(name, quantityValue(specOf(obj).resources?.requests?.storage));
  }
  return out;
}

/** The usage of every name in `hard`, summed over `objects` (store key → the namespace's objects). */
export function usageIn(objects: Map<string, KubeObject[]>, hard: Iterable<string>): Usage {
  const names = [...hard];
  const total: Usage = new Map(names.map((n) => [n, 0]));
  for (const [resource, items] of objects)
    for (const obj of items)
      for (const [name, v] of usageOf(resource, obj, names)) total.set(name, (total.get(name) ?? 0) + v);
  return total;
}

/** Names of `hard` a pod's containers must state for the quota to measure them. */
export function missingCompute(pod: KubeObject, hard: Iterable<string>): string[] {
  const missing = new Set<string>();
  for (const name of hard) {
    if (!COMPUTE.has(name)) continue;
    const [kind, res] = name.includes(".") ? (name.split(".") as [string, string]) : ["requests", name];
    for (const c of containersOf(pod))
      if (c.resources?.[kind as "requests" | "limits"]?.[res] === undefined) missing.add(name);
  }
  return [...missing].sort();
}

/** An amount as Kubernetes prints it: `500m`/`2` for cpu, `256Mi` for bytes, a count as is. */
export function formatAmount(name: string, value: number): string {
  if (name === "cpu" || name.endsWith(".cpu")) return formatCpuMillis(value);
  if (/memory|storage/.test(name)) {
    for (const [suffix, size] of [
      ["Gi", 2 ** 30],
      ["Mi", 2 ** 20],
      ["Ki", 2 ** 10],
    ] as const)
      if (value !== 0 && value % size === 0) return `${value / size}${suffix}`;
  }
  return String(value);
}

/** A quantity of `name` in the units usage is kept in. */
export function amountOf(name: string, quantity: string | number | undefined): number {
  return name === "cpu" || name.endsWith(".cpu") ? cpuMillis(quantity) : quantityValue(quantity);
}

function podAmount(pod: KubeObject, name: string): number {
  const [kind, res] = name.includes(".") ? (name.split(".") as [string, string]) : ["requests", name];
  let sum = 0;
  for (const c of (pod as unknown as Pod).spec?.containers ?? [])
    sum += amountOf(res, c.resources?.[kind as "requests" | "limits"]?.[res]);
  // An init container runs alone: the pod needs the larger of it and the regular containers.
  let init = 0;
  for (const c of (pod as unknown as Pod).spec?.initContainers ?? [])
    init = Math.max(init, amountOf(res, c.resources?.[kind as "requests" | "limits"]?.[res]));
  return Math.max(sum, init);
}

function containersOf(pod: KubeObject): readonly Container[] {
  const spec = (pod as unknown as Pod).spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
}

function specOf(obj: KubeObject): { resources?: { requests?: Record<string, string> } } {
  return (obj.spec ?? {}) as { resources?: { requests?: Record<string, string> } };
}

function serviceType(obj: KubeObject): string {
  return ((obj.spec ?? {}) as { type?: string }).type ?? "ClusterIP";
}

/** Ports of a NodePort or LoadBalancer Service, each holding a node port. */
function nodePorts(obj: KubeObject): number {
  const type = serviceType(obj);
  if (type !== "NodePort" && type !== "LoadBalancer") return 0;
  return (((obj.spec ?? {}) as { ports?: unknown[] }).ports ?? []).length;
}

/**
 * Whether a quota's scopes (`spec.scopes`, `spec.scopeSelector`) take in this object: a scoped
 * quota counts only the pods that match every scope (BestEffort/NotBestEffort by requests and
 * limits, Terminating/NotTerminating by activeDeadlineSeconds, PriorityClass by class name).
 */
export function quotaApplies(quota: ResourceQuota, resource: string, obj: KubeObject): boolean {
  const requirements: ScopedResourceSelectorRequirement[] = [
    ...(quota.spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: "Exists" })),
    ...(quota.spec?.scopeSelector?.matchExpressions ?? []),
  ];
  if (!requirements.length) return true;
  if (resource !== "pods") return false;
  return requirements.every((r) => scopeMatches(r, obj as unknown as Pod));
}

function scopeMatches(r: ScopedResourceSelectorRequirement, pod: Pod): boolean {
  const bestEffort = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every(
    (c) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length,
  );
  const terminating = pod.spec?.activeDeadlineSeconds !== undefined;
  switch (r.scopeName) {
    case "BestEffort":
      return bestEffort;
    case "NotBestEffort":
      return !bestEffort;
    case "Terminating":
      return terminating;
    case "NotTerminating":
      return !terminating;
    case "PriorityClass": {
      const name = pod.spec?.priorityClassName ?? "";
      if (r.operator === "Exists") return name !== "";
      if (r.operator === "DoesNotExist") return name === "";
      const listed = (r.values ?? []).includes(name);
      return r.operator === "In" ? listed : !listed;
    }
    default:
      // CrossNamespacePodAffinity and anything newer: not measured here, so nothing matches
      return false;
  }
}
