import type { Node, Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { NodeServices } from "../seams/node-services.ts";

/**
 * The PEM certificate of a joined node's node API, published by its agent on its Node: the server
 * trusts exactly that certificate (it is self-signed), so nobody else can pose as the node.
 */
export const NODE_API_CERTIFICATE_ANNOTATION = "node.minik.dev/node-api-certificate";

export interface NodeRouterDeps {
  client: Pick<Client, "get">;
  /** The server's own node (in-process), when it runs one. */
  local?: { nodeName: string; services: NodeServices };
  /** NodeServices of a joined node, reached at its node API (https://IP:PORT) whose certificate is `certificate`. */
  remote: (nodeName: string, url: string, certificate: string) => NodeServices;
}

/**
 * What kube-apiserver does for pods/log, exec, attach and portforward: it looks up the pod's
 * node and calls that node's kubelet at the Node's InternalIP and kubeletEndpoint port. Pods of
 * the server's own node go to the in-process NodeServices; stats come from the local node only.
 */
export function createNodeRouter(deps: NodeRouterDeps): NodeServices {
  const local = deps.local;
  const localOnly = (): NodeServices => {
    if (!local)
      throw new ApiError(
        "ServiceUnavailable",
        "this server runs no node of its own (metrics come from nodes)",
      );
    return local.services;
  };

  async function servicesFor(namespace: string, podName: string): Promise<NodeServices> {
    const pod = await deps.client.get<Pod & KubeObject>("pods", namespace, podName);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName)
      throw new ApiError(
        "BadRequest",
        `pod ${namespace}/${podName} is not scheduled to a node yet: wait for it`,
      );
    if (local && nodeName === local.nodeName) return local.services;
    const node = await deps.client.get<Node & KubeObject>("nodes", "", nodeName);
    const address = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !port)
      throw new ApiError(
        "ServiceUnavailable",
        `node ${nodeName} of pod ${namespace}/${podName} publishes no InternalIP and kubelet port in its status: is its agent running (\`minik describe node ${nodeName}\`)?`,
      );
    const certificate = node.metadata.annotations?.[NODE_API_CERTIFICATE_ANNOTATION];
    if (!certificate)
      throw new ApiError(
        "ServiceUnavailable",
        `node ${nodeName} of pod ${namespace}/${podName} publishes no node API certificate (annotation ${NODE_API_CERTIFICATE_ANNOTATION}): restart its \`minik agent\``,
      );
    const host = address.includes(":") ? `[${address}]` : address;
    return deps.remote(nodeName, `https://${host}:${port}`, certificate);
  }

  return {
    logs: async (ns, pod, c, o) => (await servicesFor(ns, pod)).logs(ns, pod, c, o),
    exec: async (ns, pod, c, cmd, o) => (await servicesFor(ns, pod)).exec(ns, pod, c, cmd, o),
    attach: async (ns, pod, c, o) => (await servicesFor(ns, pod)).attach(ns, pod, c, o),
    portForward: async (ns, pod, port) => (await servicesFor(ns, pod)).portForward(ns, pod, port),
    inspect: async (ns, pod, c) => (await servicesFor(ns, pod)).inspect(ns, pod, c),
    // a server without a node of its own reports no pod usage rather than failing `kubectl top`
    podStats: async (ns) => (local ? local.services.podStats(ns) : []),
    nodeStats: () => localOnly().nodeStats(),
  };
}
