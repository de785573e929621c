import type { Node } from "kubernetes-types/core/v1";
import { type Cidr, formatIPv4, parseCidr } from "../network/cidr.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

export interface NodeIpamOptions {
  /** Where joined nodes' ranges come from (`minik up --cluster-cidr`). */
  clusterCidr: string;
  /** The size of each node's range (kube-controller-manager's --node-cidr-mask-size: 24). */
  nodeMaskSize?: number;
  /** The server's own node keeps the range its bridge already has. */
  ownNode?: { name: string; podCidr: string };
}

/**
 * kube-controller-manager's node IPAM (range allocator): every node without `spec.podCIDR`
 * gets the first free /24 of the cluster CIDR — free meaning it overlaps no other node's range,
 * the server's own bridge range included. A node's range never changes once set (pods hold
 * addresses in it); a full cluster CIDR leaves the node without one and says so in an Event.
 */
export function createNodeIpamController(ctx: ControllerContext, options: NodeIpamOptions): Controller {
  const { client, informers } = ctx;
  const nodes = informers.for<Kube<Node>>("nodes");
  const recorder = ctx.events("node-ipam-controller");
  const cluster = parseCidr(options.clusterCidr);
  const maskSize = options.nodeMaskSize ?? 24;
  if (maskSize < cluster.prefixLength || maskSize > 30)
    throw new Error(`node CIDR mask /${maskSize} does not fit the cluster CIDR ${options.clusterCidr}`);
  const controller = createController({ name: "node-ipam", log: ctx.log, reconcile, workers: 1 });
  nodes.onEvent((e) => {
    if (e.type !== "DELETED" && !e.object.spec?.podCIDR) controller.enqueue(e.object.metadata.name ?? "");
  });
  return controller;

  async function reconcile(name: string) {
    const node = nodes.get("", name);
    if (!node || node.spec?.podCIDR) return;
    const own = options.ownNode?.name === name ? options.ownNode.podCidr : undefined;
    const taken = nodes
      .list()
      .map((n) => n.spec?.podCIDR)
      .concat(options.ownNode?.podCidr)
      .filter((c): c is string => !!c)
      .map(parseCidr);
    const range = own ?? freeRange(cluster, maskSize, taken);
    if (!range) {
      recorder.record(
        node,
        "Warning",
        "CIDRNotAvailable",
        `Node ${name} status is now: CIDRNotAvailable (the cluster CIDR ${options.clusterCidr} has no free /${maskSize}; start the server with a larger --cluster-cidr)`,
      );
      return;
    }
    nodes.observe(
      await client.patch<Kube<Node>>("nodes", "", name, "merge", {
        spec: { podCIDR: range, podCIDRs: [range] },
      }),
    );
    recorder.record(
      node,
      "Normal",
      "CIDRAssignmentSucceeded",
      `Node ${name} was assigned the pod range ${range}`,
    );
  }
}

/** The first /maskSize of `cluster` that overlaps none of `taken`. */
export function freeRange(cluster: Cidr, maskSize: number, taken: Cidr[]): string | undefined {
  const size = 2 ** (32 - maskSize);
  const count = 2 ** (maskSize - cluster.prefixLength);
  for (let i = 0; i < count; i++) {
    const start = cluster.network + i * size;
    const candidate = parseCidr(`${formatIPv4(start)}/${maskSize}`);
    if (!taken.some((t) => overlaps(t, candidate))) return candidate.text;
  }
  return undefined;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}
