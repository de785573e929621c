import type { Controller, ControllerContext } from "../controllers/controller.ts";
import type { ServiceRecord } from "./dns-resolver.ts";
import { createAddressNameView, createServiceDnsView } from "./dns-view.ts";
import type { ServiceProxy } from "./service-proxy.ts";
import { createServiceProxyController } from "./service-proxy-controller.ts";

/** What the node's network offers core (runtime/net/node-network.ts implements it). */
export interface NodeNetworkServices {
  proxy: ServiceProxy;
  startDns(
    lookupService: (namespace: string, name: string) => ServiceRecord | undefined,
    nameOfAddress?: (ip: string) => string | undefined,
  ): Promise<{ stop(): void }>;
}

/**
 * The network's controllers over the shared informers, for the controller manager's `extra`:
 * `service-proxy` (Services + EndpointSlices → nft) and `cluster-dns` (the DNS server, answering
 * from the Service cache; it starts once the caches are filled).
 */
export function networkControllers(
  ctx: ControllerContext,
  node: NodeNetworkServices,
): Record<string, Controller> {
  const lookup = createServiceDnsView(ctx.informers);
  const nameOf = createAddressNameView(ctx.informers);
  let server: { stop(): void } | undefined;
  let stopped = false;
  const dns: Controller = {
    name: "cluster-dns",
    enqueue() {},
    enqueueAfter() {},
    reconcile: async () => {},
    start() {
      void node
        .startDns(lookup, nameOf)
        .then((s) => {
          if (stopped) s.stop();
          else server = s;
        })
        .catch((e) => ctx.log(`cluster-dns: ${e instanceof Error ? e.message : e}`));
    },
    async stop() {
      stopped = true;
      server?.stop();
    },
  };
  return { "service-proxy": createServiceProxyController(ctx, node.proxy), "cluster-dns": dns };
}
