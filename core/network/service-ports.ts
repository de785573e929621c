import type { Endpoints, Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { ProxyEndpoint, ProxyProtocol, ProxyServicePort } from "../seams/service-proxy.ts";

/** Kubernetes' default for `sessionAffinityConfig.clientIP.timeoutSeconds`: three hours. */
const DEFAULT_AFFINITY_SECONDS = 10800;

/**
 * What the proxy should serve, computed from Services and their EndpointSlices (or, for a Service
 * with no slice yet, its Endpoints). Only ready, non-terminating endpoints, and never one whose
 * pod is being deleted: a pod leaves rotation the moment its deletion starts, before it gets
 * SIGTERM, whatever the endpoints controller has written yet. Pure.
 */
export function servicePorts(input: {
  services: Service[];
  endpointSlices: EndpointSlice[];
  endpoints: Endpoints[];
  /** Pods being deleted (`namespace/name`). */
  terminatingPods?: Set<string>;
}): ProxyServicePort[] {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of input.endpointSlices) {
    const svc = slice.metadata?.labels?.["kubernetes.io/service-name"];
    if (!svc || slice.addressType !== "IPv4") continue;
    const key = `${slice.metadata?.namespace}/${svc}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const endpointsByService = new Map(
    input.endpoints.map((e) => [`${e.metadata?.namespace}/${e.metadata?.name}`, e]),
  );
  const terminating = input.terminatingPods ?? new Set<string>();
  const out: ProxyServicePort[] = [];
  for (const svc of input.services) {
    const spec = svc.spec;
    if (!spec || spec.type === "ExternalName" || !spec.clusterIP || spec.clusterIP === "None") continue;
    if (svc.metadata?.deletionTimestamp) continue;
    const id = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const slices = slicesByService.get(id);
    const affinity =
      spec.sessionAffinity === "ClientIP"
        ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS)
        : undefined;
    for (const port of spec.ports ?? []) {
      const protocol = (port.protocol ?? "TCP") as ProxyProtocol;
      const name = port.name ?? "";
      const endpoints = slices
        ? fromSlices(slices, name, protocol, terminating)
        : fromEndpoints(endpointsByService.get(id), name, protocol, terminating);
      out.push({
        key: `${id}:${name || port.port}`,
        clusterIP: spec.clusterIP,
        port: port.port,
        protocol,
        nodePort: spec.type === "NodePort" || spec.type === "LoadBalancer" ? port.nodePort : undefined,
        endpoints: dedupe(endpoints),
        ...(affinity ? { affinityTimeoutSeconds: affinity } : {}),
      });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

function fromSlices(
  slices: EndpointSlice[],
  name: string,
  protocol: string,
  terminating: Set<string>,
): ProxyEndpoint[] {
  const out: ProxyEndpoint[] = [];
  for (const slice of slices) {
    const port = (slice.ports ?? []).find(
      (p) => (p.name ?? "") === name && (p.protocol ?? "TCP") === protocol,
    );
    if (!port?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      if (
        ep.targetRef?.kind === "Pod" &&
        terminating.has(`${ep.targetRef.namespace ?? slice.metadata?.namespace}/${ep.targetRef.name}`)
      )
        continue;
      for (const ip of ep.addresses ?? []) out.push({ ip, port: port.port });
    }
  }
  return out;
}

function fromEndpoints(
  eps: Endpoints | undefined,
  name: string,
  protocol: string,
  terminating: Set<string>,
): ProxyEndpoint[] {
  const out: ProxyEndpoint[] = [];
  for (const subset of eps?.subsets ?? []) {
    const port = (subset.ports ?? []).find(
      (p) => (p.name ?? "") === name && (p.protocol ?? "TCP") === protocol,
    );
    if (!port) continue;
    for (const addr of subset.addresses ?? []) {
      if (
        addr.targetRef?.kind === "Pod" &&
        terminating.has(`${addr.targetRef.namespace ?? eps?.metadata?.namespace}/${addr.targetRef.name}`)
      )
        continue;
      out.push({ ip: addr.ip, port: port.port });
    }
  }
  return out;
}

function dedupe(endpoints: ProxyEndpoint[]): ProxyEndpoint[] {
  const seen = new Set<string>();
  return endpoints
    .filter((e) => {
      const k = `${e.ip}:${e.port}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
}

/** `namespace/name` of pods whose deletion has started. */
export function terminatingPods(pods: Pod[]): Set<string> {
  return new Set(
    pods
      .filter((p) => p.metadata?.deletionTimestamp)
      .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
  );
}

/**
 * Services whose selector matches no pod at all (no endpoint, ready or not, in their slices or
 * Endpoints): reported to the user, since such a Service refuses every connection.
 */
export function servicesWithoutPods<S extends Service>(input: {
  services: S[];
  endpointSlices: EndpointSlice[];
  endpoints: Endpoints[];
}): S[] {
  const withPods = new Set<string>();
  for (const slice of input.endpointSlices) {
    const svc = slice.metadata?.labels?.["kubernetes.io/service-name"];
    if (svc && (slice.endpoints ?? []).some((e) => e.addresses?.length))
      withPods.add(`${slice.metadata?.namespace}/${svc}`);
  }
  for (const eps of input.endpoints) {
    if ((eps.subsets ?? []).some((s) => s.addresses?.length || s.notReadyAddresses?.length)) {
      withPods.add(`${eps.metadata?.namespace}/${eps.metadata?.name}`);
    }
  }
  return input.services.filter(
    (svc) =>
      svc.spec?.type !== "ExternalName" &&
      Object.keys(svc.spec?.selector ?? {}).length > 0 &&
      !svc.metadata?.deletionTimestamp &&
      !withPods.has(`${svc.metadata?.namespace}/${svc.metadata?.name}`),
  );
}
