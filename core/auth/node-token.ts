import { createHmac } from "node:crypto";
import { NODES_GROUP } from "./bootstrap-policy.ts";
import type { UserInfo } from "./user.ts";

/**
 * The join secret of nodes (`<data-dir>/node-token` on the server). An agent presents it as the
 * bearer token `node:NAME:SECRET` and is then `system:node:NAME` in `system:nodes`, which the
 * bootstrap policy lets do what a kubelet does and no more. Every holder of the secret may claim
 * any node name (as with k3s's shared token): the secret is the trust, the name is bookkeeping.
 */
export const NODE_USER_PREFIX = "system:node:";

/** The bearer token an agent sends for `nodeName`. */
export function nodeBearer(nodeName: string, secret: string): string {
  return `node:${nodeName}:${secret}`;
}

/** The node name and secret of a node bearer token, or undefined when it is not one. */
export function parseNodeBearer(bearer: string): { nodeName: string; secret: string } | undefined {
  const parts = bearer.split(":");
  if (parts.length !== 3 || parts[0] !== "node" || !parts[1] || !parts[2]) return undefined;
  return { nodeName: parts[1], secret: parts[2] };
}

export function nodeUser(nodeName: string): UserInfo {
  return { username: `${NODE_USER_PREFIX}${nodeName}`, groups: [NODES_GROUP, "system:authenticated"] };
}

/**
 * What the API server presents to a joined node's node API (its kubelet port): derived from the
 * join secret both sides hold, so the node can check it and a node bearer token is not it.
 */
export function nodeApiCredential(secret: string): string {
  return createHmac("sha256", secret).update("minik node API").digest("hex");
}
