/**
 * How pods on different nodes reach each other: the kernel's own routing, one route per other
 * node — its pod range through its address (host-gw, as flannel's backend of that name does; no
 * overlay, so the nodes must share a network). The controller (core/network/pod-routes-controller.ts)
 * computes the routes from Node objects; the runtime (runtime/net/pod-routes.ts) programs them.
 */
export interface PodRoute {
  /** The node the range belongs to (for messages). */
  node: string;
  /** `spec.podCIDR` of that node, e.g. 10.80.0.0/24. */
  podCidr: string;
  /** The node's InternalIP, which must be directly reachable from this node. */
  via: string;
}

export interface PodRoutes {
  /** Makes the routes exactly these (adds, changes, removes minik's own routes only). */
  sync(routes: PodRoute[]): Promise<void>;
}
