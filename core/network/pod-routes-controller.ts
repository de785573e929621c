import type { Node } from "kubernetes-types/core/v1";
import { type Controller, type ControllerContext, createController } from "../controllers/controller.ts";
import type { Kube } from "../controllers/owner-references.ts";
import type { PodRoute, PodRoutes } from "../seams/pod-routes.ts";

const KEY = "routes";

/**
 * Keeps a route to every other node's pod range via that node's InternalIP (one key: the whole
 * set is recomputed from the Node cache on any Node change and synced at once, so a node that
 * leaves takes its route with it).
 */
export function createPodRoutesController(
  ctx: ControllerContext,
  options: { nodeName: string; routes: PodRoutes },
): Controller {
  const nodes = ctx.informers.for<Kube<Node>>("nodes");
  let last = "";
  const controller = createController({ name: "pod-routes", log: ctx.log, reconcile, workers: 1 });
  nodes.onEvent(() => controller.enqueue(KEY));
  controller.enqueue(KEY);
  return controller;

  async function reconcile() {
    const wanted = podRoutes(nodes.list(), options.nodeName);
    const text = JSON.stringify(wanted);
    if (text === last) return;
    await options.routes.sync(wanted);
    last = text;
  }
}

/** Every other node that has a pod range and an InternalIP, sorted for a stable comparison. */
export function podRoutes(nodes: Node[], ownNode: string): PodRoute[] {
  const routes: PodRoute[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? "";
    const podCidr = n.spec?.podCIDR;
    const via = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    if (name === ownNode || !podCidr || !via) continue;
    routes.push({ node: name, podCidr, via });
  }
  return routes.sort((a, b) => (a.podCidr < b.podCidr ? -1 : 1));
}
