import { RESOURCES, type ResourceInfo } from "../resources.ts";

/**
 * Discovery documents built from core/resources.ts: the aggregated form (one request each for
 * /api and /apis, what kubectl 1.32 asks for first) and the legacy per-group-version form.
 */
export const AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
export const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** Extra group-versions served besides RESOURCES (metrics.k8s.io when node stats exist). */
export interface ExtraResource {
  info: ResourceInfo;
  verbs: string[];
}

export const METRICS_RESOURCES: ExtraResource[] = [
  { info: metric("PodMetrics", "pods", true), verbs: ["get", "list"] },
  { info: metric("NodeMetrics", "nodes", false), verbs: ["get", "list"] },
];

function metric(kind: string, plural: string, namespaced: boolean): ResourceInfo {
  return {
    group: "metrics.k8s.io",
    version: "v1beta1",
    kind,
    listKind: `${kind}List`,
    plural,
    singular: "",
    namespaced,
    shortNames: [],
    categories: [],
    subresources: [],
  };
}

interface Sub {
  kind: { group: string; version: string; kind: string };
  verbs: string[];
}

function subresource(info: ResourceInfo, name: string): Sub {
  const own = { group: info.group, version: info.version, kind: info.kind };
  const core = (kind: string) => ({ group: "", version: "v1", kind });
  switch (name) {
    case "status":
      return { kind: own, verbs: ["get", "patch", "update"] };
    case "scale":
      return {
        kind: { group: "autoscaling", version: "v1", kind: "Scale" },
        verbs: ["get", "patch", "update"],
      };
    case "log":
      return { kind: core("Pod"), verbs: ["get"] };
    case "exec":
      return { kind: core("PodExecOptions"), verbs: ["create", "get"] };
    case "attach":
      return { kind: core("PodAttachOptions"), verbs: ["create", "get"] };
    case "portforward":
      return { kind: core("PodPortForwardOptions"), verbs: ["create", "get"] };
    case "eviction":
      return { kind: { group: "policy", version: "v1", kind: "Eviction" }, verbs: ["create"] };
    case "binding":
      return { kind: core("Binding"), verbs: ["create"] };
    case "token":
      return {
        kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
        verbs: ["create"],
      };
    case "proxy":
      return {
        kind: core(`${info.kind}ProxyOptions`),
        verbs: ["create", "delete", "get", "patch", "update"],
      };
    default:
      return { kind: own, verbs: ["get"] };
  }
}

function allResources(extra: ExtraResource[]): ExtraResource[] {
  return [...RESOURCES.map((info) => ({ info, verbs: ALL_VERBS })), ...extra];
}

/** Group name → versions → resources, in a stable order (core first, then as listed). */
function grouped(extra: ExtraResource[]): Map<string, Map<string, ExtraResource[]>> {
  const groups = new Map<string, Map<string, ExtraResource[]>>();
  for (const r of allResources(extra)) {
    const versions = groups.get(r.info.group) ?? new Map<string, ExtraResource[]>();
    groups.set(r.info.group, versions);
    versions.set(r.info.version, [...(versions.get(r.info.version) ?? []), r]);
  }
  return groups;
}

export function groupVersions(
  extra: ExtraResource[],
): { group: string; version: string; resources: ExtraResource[] }[] {
  const out = [];
  for (const [group, versions] of grouped(extra)) {
    for (const [version, resources] of versions) out.push({ group, version, resources });
  }
  return out;
}

/** `APIGroupDiscoveryList` for /api (core = true) or /apis. */
export function aggregatedDiscovery(core: boolean, extra: ExtraResource[]) {
  const items = [];
  for (const [group, versions] of grouped(extra)) {
    if ((group === "") !== core) continue;
    items.push({
      metadata: { name: group, creationTimestamp: null },
      versions: [...versions].map(([version, resources]) => ({
        version,
        freshness: "Current",
        resources: resources.map(aggregatedResource),
      })),
    });
  }
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}

function aggregatedResource({ info, verbs }: ExtraResource) {
  return {
    resource: info.plural,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? "Namespaced" : "Cluster",
    singularResource: info.singular || info.kind.toLowerCase(),
    verbs,
    ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length ? { categories: info.categories } : {}),
    subresources: info.subresources.map((name) => {
      const sub = subresource(info, name);
      return { subresource: name, responseKind: sub.kind, verbs: sub.verbs };
    }),
  };
}

export function legacyApiVersions() {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
  };
}

export function legacyGroupList(extra: ExtraResource[]) {
  const groups = [];
  for (const [group, versions] of grouped(extra)) {
    if (group === "") continue;
    const list = [...versions.keys()].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    groups.push({ name: group, versions: list, preferredVersion: list[0] });
  }
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

export function legacyGroup(group: string, extra: ExtraResource[]) {
  const versions = grouped(extra).get(group);
  if (!versions || group === "") return undefined;
  const list = [...versions.keys()].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { kind: "APIGroup", apiVersion: "v1", name: group, versions: list, preferredVersion: list[0] };
}

/** `APIResourceList` for one group-version; undefined when not served. */
export function legacyResourceList(group: string, version: string, extra: ExtraResource[]) {
  const resources = grouped(extra).get(group)?.get(version);
  if (!resources) return undefined;
  const list = [];
  for (const { info, verbs } of resources) {
    list.push({
      name: info.plural,
      singularName: info.singular || info.kind.toLowerCase(),
      namespaced: info.namespaced,
      kind: info.kind,
      verbs,
      ...(info.shortNames.length ? { shortNames: info.shortNames } : {}),
      ...(info.categories.length ? { categories: info.categories } : {}),
    });
    for (const name of info.subresources) {
      const sub = subresource(info, name);
      list.push({
        name: `${info.plural}/${name}`,
        singularName: "",
        namespaced: info.namespaced,
        ...(sub.kind.group ? { group: sub.kind.group, version: sub.kind.version } : {}),
        kind: sub.kind.kind,
        verbs: sub.verbs,
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources: list,
  };
}

/** True when the Accept header asks for aggregated discovery v2. */
export function wantsAggregated(accept: string | null): boolean {
  if (!accept) return false;
  return accept
    .split(",")
    .some((part) => /as=APIGroupDiscoveryList/.test(part) && /\bv=v2(;|$|\s)/.test(part.replace(/\s/g, "")));
}
