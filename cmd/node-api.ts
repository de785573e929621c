/**
 * The node API between a server and its joined nodes (what the kubelet's port 10250 is to
 * kube-apiserver): the agent serves it over HTTPS with its own certificate; the server calls it
 * with a credential derived from the join secret, and trusts only the certificate the node
 * published on its Node (core/client/node-router.ts), as a kubelet's serving CA would be trusted.
 */

import { createNodeApi } from "../core/api/node-api.ts";
import { nodeApiCredential } from "../core/auth/node-token.ts";
import { NODE_API_CERTIFICATE_ANNOTATION } from "../core/client/node-router.ts";
import { createRemoteNodeServices } from "../core/client/remote-node-services.ts";
import type { Client } from "../core/seams/client.ts";
import type { NodeServices } from "../core/seams/node-services.ts";
import { platform } from "./platform/index.ts";
import type { RunningServer } from "./platform/platform.ts";
import { ensureServingCert } from "./tls.ts";

/** The kubelet's port, and minik agent's default --node-port. */
export const DEFAULT_NODE_PORT = 10250;

/** The server's way to a joined node's NodeServices. */
export function remoteNodes(
  secret: string,
): (nodeName: string, url: string, certificate: string) => NodeServices {
  const credential = nodeApiCredential(secret);
  return (nodeName, url, certificate) => {
    // Bun's fetch and WebSocket take the CA to trust per call: the node's own certificate
    const tls = { tls: { ca: certificate } };
    return createRemoteNodeServices({
      nodeName,
      url,
      credential,
      fetch: (input, init) => fetch(input, { ...init, ...tls } as RequestInit),
      openSocket: (socketUrl, protocols, headers) =>
        new WebSocket(socketUrl, { protocols, headers, ...tls } as unknown as string[]),
    });
  };
}

/**
 * Serves this node's NodeServices on hostname:port over HTTPS (certificate in the data dir) and
 * publishes that certificate on the Node for the server to trust.
 */
export async function serveNodeApi(o: {
  client: Client;
  node: NodeServices;
  secret: string;
  hostname: string;
  port: number;
  dataDir: string;
  nodeName: string;
}): Promise<RunningServer> {
  const tls = await ensureServingCert(o.dataDir, [o.hostname]);
  const app = createNodeApi({ client: o.client, node: o.node, credential: nodeApiCredential(o.secret) });
  const server = platform.serve(app, { hostname: o.hostname, port: o.port, tls });
  await o.client.patch("nodes", "", o.nodeName, "merge", {
    metadata: { annotations: { [NODE_API_CERTIFICATE_ANNOTATION]: tls.cert } },
  });
  return server;
}
