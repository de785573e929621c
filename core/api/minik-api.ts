import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import type { ImageService } from "../seams/image-service.ts";
import type { NodeServices } from "../seams/node-services.ts";

/**
 * minik's own endpoints beside the Kubernetes API (under /minik/v1, behind the same token):
 * the node's images and container inspection. Pull progress streams as newline-delimited JSON so the CLI can draw bars.
 */
export function createMinikApi(deps: { images?: ImageService; node?: NodeServices }): Hono {
  const app = new Hono();
  const images = () => {
    if (!deps.images)
      throw new ApiError(
        "ServiceUnavailable",
        "this minik runs without a container runtime, so it has no image store",
      );
    return deps.images;
  };
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

  // A pod's containers as the host sees them: namespaces, cgroup limits, rootfs layers.
  app.get("/minik/v1/namespaces/:namespace/pods/:name/inspect", async (c) => {
    if (!deps.node)
      throw new ApiError(
        "ServiceUnavailable",
        "this minik runs without a node, so it has no containers to inspect",
      );
    const { namespace, name } = c.req.param();
    const inspection = await deps.node.inspect(namespace, name, c.req.query("container") || undefined);
    return json({ kind: "ContainerInspection", apiVersion: "minik/v1", namespace, pod: name, ...inspection });
  });

  app.get("/minik/v1/images", async () =>
    json({ kind: "ImageList", apiVersion: "minik/v1", items: await images().list() }),
  );

  app.post("/minik/v1/images/pull", async (c) => {
    const { image } = (await c.req.json().catch(() => ({}))) as { image?: string };
    if (!image) throw new ApiError("BadRequest", 'pull needs a JSON body {"image": "name:tag"}');
    const store = images();
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(ctrl) {
        const send = (o: unknown) => ctrl.enqueue(enc.encode(`${JSON.stringify(o)}\n`));
        try {
          const done = await store.pull(image, (p) => send({ type: "progress", ...p }));
          send({ type: "done", image: done });
        } catch (e) {
          send({ type: "error", message: (e as Error).message, reason: (e as { reason?: string }).reason });
        }
        ctrl.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "application/x-ndjson" } });
  });

  app.post("/minik/v1/images/load", async (c) => {
    if (!c.req.raw.body) throw new ApiError("BadRequest", "load needs the archive as the request body");
    return json(
      { kind: "ImageList", apiVersion: "minik/v1", items: await images().load(c.req.raw.body) },
      201,
    );
  });

  app.get("/minik/v1/images/:ref{.+}", async (c) =>
    json({
      kind: "Image",
      apiVersion: "minik/v1",
      ...(await images().inspect(decodeURIComponent(c.req.param("ref")))),
    }),
  );

  app.delete("/minik/v1/images/:ref{.+}", async (c) => {
    await images().remove(decodeURIComponent(c.req.param("ref")));
    return json({ kind: "Status", apiVersion: "v1", status: "Success" });
  });
  return app;
}
