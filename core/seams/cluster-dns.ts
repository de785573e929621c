import type { PodRoutes } from "./pod-routes.ts";
import type { PolicyEnforcer } from "./policy-enforcer.ts";
import type { ServiceProxy } from "./service-proxy.ts";

/**
 * What cluster DNS is told of a Service: core computes it from Services and EndpointSlices
 * (core/network/dns-view.ts); the node's DNS server (runtime/net/dns-server.ts) answers with it.
 */
export interface ServiceRecord {
  /** A records: the ClusterIP, or a headless Service's ready endpoint IPs. */
  ips: string[];
  /** ExternalName Services answer with a CNAME. */
  externalName?: string;
  /** Headless Services: A records of `<hostname>.<svc>.<ns>.svc.cluster.local` (StatefulSet pods). */
  hosts?: Record<string, string[]>;
  /** Named ports, for SRV `_<port>._<proto>.<svc>.<ns>.svc.cluster.local`. */
  ports?: { name?: string; port: number; protocol?: string }[];
}

/** What the node's network offers core (runtime/net/node-network.ts implements it). */
export interface NodeNetworkServices {
  proxy: ServiceProxy;
  /** Enforces NetworkPolicies on pod traffic. */
  policy: PolicyEnforcer;
  /** Routes to other nodes' pods (a node that may have peers); none: one node only. */
  routes?: PodRoutes;
  startDns(
    lookupService: (namespace: string, name: string) => ServiceRecord | undefined,
    nameOfAddress?: (ip: string) => string | undefined,
  ): Promise<{ stop(): void }>;
}
