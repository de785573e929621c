import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import { findByPlural, resourceKey } from "../resources.ts";
import type { Client } from "../seams/client.ts";
import type { NodeServices } from "../seams/node-services.ts";
import { handleExec } from "./exec.ts";
import { handleLogs } from "./logs.ts";
import { handlePortForward } from "./port-forward.ts";
import { statusResponse } from "./respond.ts";
import type { ServerEnv } from "./socket.ts";
import type { Target } from "./target.ts";

export interface NodeApiDeps {
  /** The node's client of the API server (reads the pod, as the kubelet does). */
  client: Client;
  /** This node's own NodeServices. */
  node: NodeServices;
  /** The one bearer credential accepted (core/auth/node-token.ts nodeApiCredential). */
  credential: string;
}

/** The subresources a node serves, under the same paths and wire as the API server's. */
const SERVED = new Set(["log", "exec", "attach", "portforward"]);

/**
 * A joined node's node API (what the kubelet's port is to kube-apiserver): pods' log, exec,
 * attach and portforward (and minik's container inspection), served by the very handlers the API server uses, over this node's
 * NodeServices. Only the API server's credential is accepted; anything else is 401.
 */
export function createNodeApi(deps: NodeApiDeps): Hono<{ Bindings: ServerEnv }> {
  const app = new Hono<{ Bindings: ServerEnv }>();
  const expected = new TextEncoder().encode(`Bearer ${deps.credential}`);
  app.onError((e) => statusResponse(e));
  app.notFound(() =>
    statusResponse(
      new ApiError("NotFound", "the node API serves only pods' log, exec, attach and portforward"),
    ),
  );
  app.use("*", async (c, next) => {
    const given = new TextEncoder().encode(c.req.header("Authorization") ?? "");
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected))
      throw new ApiError("Unauthorized", "the node API accepts only its API server's credential");
    await next();
  });
  const routeDeps = { client: deps.client, node: deps.node };
  // `minik inspect` of this node's pods: the inspection as NodeServices returns it
  app.get("/minik/v1/namespaces/:namespace/pods/:name/inspect", async (c) => {
    const { namespace, name } = c.req.param();
    const inspection = await deps.node.inspect(namespace, name, c.req.query("container") || undefined);
    return new Response(JSON.stringify(inspection), { headers: { "Content-Type": "application/json" } });
  });
  app.all("/api/v1/namespaces/:namespace/pods/:name/:subresource", (c) => {
    const { namespace, name, subresource } = c.req.param();
    if (!SERVED.has(subresource))
      throw new ApiError("NotFound", `the node API does not serve pods/${subresource}`);
    const info = findByPlural("", "pods")!;
    const t: Target = { info, resource: resourceKey(info), namespace, name, subresource };
    const req = c.req.raw;
    const url = new URL(req.url);
    if (subresource === "log") return handleLogs(req, url, t, routeDeps);
    if (subresource === "portforward") return handlePortForward(req, url, t, routeDeps, c.env ?? {});
    return handleExec(req, url, t, routeDeps, c.env ?? {});
  });
  return app;
}
