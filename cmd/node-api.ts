/**
 * The node API between a server and its joined nodes (what the kubelet's port 10250 is to
 * kube-apiserver): the agent serves it over HTTPS with its own certificate; the server calls it
 * with a credential derived from the join secret. Like kube-apiserver without
 * --kubelet-certificate-authority, the server does not verify the node's self-signed certificate.
 */

import { createNodeApi } from "../core/api/node-api.ts";
import { nodeApiCredential } from "../core/auth/node-token.ts";
import { createRemoteNodeServices } from "../core/client/remote-node-services.ts";
import type { Client } from "../core/seams/client.ts";
import type { NodeServices } from "../core/seams/node-services.ts";
import { platform } from "./platform/index.ts";
import type { RunningServer } from "./platform/platform.ts";
import { ensureServingCert } from "./tls.ts";

/** The kubelet's port, and minik agent's default --node-port. */
export const DEFAULT_NODE_PORT = 10250;

// Bun's fetch and WebSocket take TLS options per call (other runtimes ignore them)
const insecure = { tls: { rejectUnauthorized: false } };

/** The server's way to a joined node's NodeServices. */
export function remoteNodes(secret: string): (nodeName: string, url: string) => NodeServices {
  const credential = nodeApiCredential(secret);
  return (nodeName, url) =>
    createRemoteNodeServices({
      nodeName,
      url,
      credential,
      fetch: (input, init) => fetch(input, { ...init, ...insecure } as RequestInit),
      openSocket: (socketUrl, protocols, headers) =>
        new WebSocket(socketUrl, { protocols, headers, ...insecure } as unknown as string[]),
    });
}

/** Serves this node's NodeServices on hostname:port over HTTPS (certificate in the data dir). */
export async function serveNodeApi(o: {
  client: Client;
  node: NodeServices;
  secret: string;
  hostname: string;
  port: number;
  dataDir: string;
}): Promise<RunningServer> {
  const tls = await ensureServingCert(o.dataDir, [o.hostname]);
  const app = createNodeApi({ client: o.client, node: o.node, credential: nodeApiCredential(o.secret) });
  return platform.serve(app, { hostname: o.hostname, port: o.port, tls });
}
