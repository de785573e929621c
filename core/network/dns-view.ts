import type { Pod, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { CLUSTER_DOMAIN } from "../config.ts";
import type { Informers } from "../controllers/informer.ts";
import type { KubeObject } from "../object.ts";
import type { ServiceRecord } from "../seams/cluster-dns.ts";

/**
 * The cluster DNS's view of Services, read from the shared informer caches (kept current by a
 * watch), so every query is answered from memory. Start `informers` before serving DNS.
 */
export function createServiceDnsView(
  informers: Informers,
): (namespace: string, name: string) => ServiceRecord | undefined {
  const services = informers.for<Service & KubeObject>("services");
  const slices = informers.for<EndpointSlice & KubeObject>("endpointslices.discovery.k8s.io");
  return (namespace, name) => {
    const svc = services.get(namespace, name);
    const spec = svc?.spec;
    if (!spec) return undefined;
    if (spec.type === "ExternalName") return { ips: [], externalName: spec.externalName };
    const ports = (spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol }));
    if (spec.clusterIP && spec.clusterIP !== "None") return { ips: [spec.clusterIP], ports };
    // Headless: the ready endpoints themselves.
    const ips = new Set<string>();
    const hosts: Record<string, string[]> = {};
    for (const slice of slices.list(namespace)) {
      if (slice.metadata.labels?.["kubernetes.io/service-name"] !== name || slice.addressType !== "IPv4")
        continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses ?? []) ips.add(ip);
        if (ep.hostname) hosts[ep.hostname] = [...(hosts[ep.hostname] ?? []), ...(ep.addresses ?? [])];
      }
    }
    return { ips: [...ips].sort(), ports, ...(Object.keys(hosts).length ? { hosts } : {}) };
  };
}

/**
 * The name of a cluster address for reverse lookups: a ClusterIP's Service
 * (`<svc>.<ns>.svc.cluster.local`) or a pod's `a-b-c-d.<ns>.pod.cluster.local`.
 */
export function createAddressNameView(
  informers: Informers,
  domain = CLUSTER_DOMAIN,
): (ip: string) => string | undefined {
  const services = informers.for<Service & KubeObject>("services");
  const pods = informers.for<Pod & KubeObject>("pods");
  return (ip) => {
    const svc = services.list().find((s) => s.spec?.clusterIP === ip);
    if (svc) return `${svc.metadata.name}.${svc.metadata.namespace}.svc.${domain}`;
    const pod = pods.list().find((p) => p.status?.podIP === ip && !p.spec?.hostNetwork);
    return pod ? `${ip.replaceAll(".", "-")}.${pod.metadata.namespace}.pod.${domain}` : undefined;
  };
}
