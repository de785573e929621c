import type { Pod } from "kubernetes-types/core/v1";
import type { SandboxConfig } from "../seams/container-runtime.ts";
import { podResources } from "./container-config.ts";
import { isSidecar } from "./pod-status.ts";

/**
 * The pod's sandbox: hostname, resolv.conf per dnsPolicy, /etc/hosts aliases and host ports.
 * ClusterFirst points at the cluster DNS with the Kubernetes search path and ndots:5.
 */
export interface ClusterDns {
  nameserver: string;
  searchDomain: string;
}

export interface HostDns {
  nameservers: string[];
  searches: string[];
}

export function sandboxConfig(
  pod: Pod,
  clusterDns: ClusterDns,
  hostDns: HostDns = { nameservers: [], searches: [] },
): SandboxConfig {
  const spec = pod.spec ?? { containers: [] };
  const namespace = pod.metadata?.namespace ?? "default";
  const hostPorts: SandboxConfig["hostPorts"] = [];
  // sidecars run all along, so their hostPorts are the pod's too
  const sidecars = (spec.initContainers ?? []).filter(isSidecar);
  for (const c of [...sidecars, ...spec.containers]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      hostPorts.push({
        containerPort: p.containerPort,
        hostPort: p.hostPort,
        protocol: (p.protocol ?? "TCP") as "TCP" | "UDP" | "SCTP",
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      });
    }
  }
  const resources = podResources(pod);
  const hostNamespaces = {
    ...(spec.hostNetwork ? { network: true } : {}),
    ...(spec.hostPID ? { pid: true } : {}),
    ...(spec.hostIPC ? { ipc: true } : {}),
  };
  return {
    podUid: pod.metadata?.uid ?? "",
    namespace,
    name: pod.metadata?.name ?? "",
    hostname: podHostname(pod),
    dns: dnsConfig(pod, clusterDns, hostDns),
    hostAliases: (spec.hostAliases ?? []).map((a) => ({ ip: a.ip ?? "", hostnames: a.hostnames ?? [] })),
    hostPorts,
    ...(resources ? { resources } : {}),
    ...(Object.keys(hostNamespaces).length ? { hostNamespaces } : {}),
  };
}

/** The pod's address: the node's own for a pod on the host's network, as the kubelet reports it. */
export function podAddress(pod: Pod, sandboxIP: string | undefined, hostIP: string | undefined) {
  return pod.spec?.hostNetwork ? hostIP : sandboxIP;
}

/** spec.hostname if given, else the pod name, cut to 63 characters as Kubernetes does. */
function podHostname(pod: Pod): string {
  const name = pod.spec?.hostname || pod.metadata?.name || "pod";
  return name.slice(0, 63).replace(/[-.]+$/, "");
}

export function dnsConfig(pod: Pod, clusterDns: ClusterDns, hostDns: HostDns): SandboxConfig["dns"] {
  const spec = pod.spec;
  const namespace = pod.metadata?.namespace ?? "default";
  let policy = spec?.dnsPolicy ?? "ClusterFirst";
  // Pods on the host network use the host's resolver unless they ask for ClusterFirstWithHostNet.
  if (policy === "ClusterFirst" && spec?.hostNetwork) policy = "Default";
  if (policy === "ClusterFirstWithHostNet") policy = "ClusterFirst";
  let dns: SandboxConfig["dns"];
  if (policy === "ClusterFirst") {
    const d = clusterDns.searchDomain;
    dns = {
      nameservers: [clusterDns.nameserver],
      searches: [`${namespace}.svc.${d}`, `svc.${d}`, d],
      options: ["ndots:5"],
    };
  } else if (policy === "Default") {
    dns = { nameservers: [...hostDns.nameservers], searches: [...hostDns.searches], options: [] };
  } else {
    dns = { nameservers: [], searches: [], options: [] };
  }
  const extra = spec?.dnsConfig;
  if (extra) {
    dns.nameservers = [...new Set([...dns.nameservers, ...(extra.nameservers ?? [])])];
    dns.searches = [...new Set([...dns.searches, ...(extra.searches ?? [])])];
    const options = new Map(dns.options.map((o) => [o.split(":")[0]!, o]));
    for (const o of extra.options ?? [])
      options.set(o.name ?? "", o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? ""));
    dns.options = [...options.values()];
  }
  return dns;
}
