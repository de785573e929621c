import type { Controller, ControllerContext } from "../controllers/controller.ts";
import type { NodeNetworkServices } from "../seams/cluster-dns.ts";
import { createAddressNameView, createServiceDnsView } from "./dns-view.ts";
import { createNetworkPolicyController } from "./network-policy-controller.ts";
import { createPodRoutesController } from "./pod-routes-controller.ts";
import { createServiceProxyController } from "./service-proxy-controller.ts";

/**
 * The network's controllers over the shared informers, for the controller manager's `extra`:
 * `service-proxy` (Services + EndpointSlices → nft) and `cluster-dns` (the DNS server, answering
 * from the Service cache) and `network-policy` (NetworkPolicies + Pods + Namespaces → the node's
 * policy enforcer). The DNS server starts at once; `dnsReady` lets `minik up` report a
 * failure to bind as a start-up step rather than a log line. With `nodeName` and the node's
 * `routes`, `pod-routes` keeps routes to the other nodes' pod ranges.
 */
export function networkControllers(
  ctx: ControllerContext,
  node: NodeNetworkServices,
  nodeName?: string,
): { controllers: Record<string, Controller>; dnsReady: Promise<void> } {
  const started = node.startDns(createServiceDnsView(ctx.informers), createAddressNameView(ctx.informers));
  let stopped = false;
  const dns: Controller = {
    name: "cluster-dns",
    enqueue() {},
    enqueueAfter() {},
    reconcile: async () => {},
    start() {},
    async stop() {
      stopped = true;
      (await started.catch(() => undefined))?.stop();
    },
  };
  const dnsReady = started.then((server) => {
    if (stopped) server.stop();
  });
  const routes: Record<string, Controller> =
    node.routes && nodeName
      ? { "pod-routes": createPodRoutesController(ctx, { nodeName, routes: node.routes }) }
      : {};
  return {
    controllers: {
      "service-proxy": createServiceProxyController(ctx, node.proxy),
      "network-policy": createNetworkPolicyController(ctx, node.policy),
      "cluster-dns": dns,
      ...routes,
    },
    dnsReady,
  };
}
