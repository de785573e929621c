import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import type { ImageService } from "../seams/image-service.ts";

/**
 * minik's own endpoints beside the Kubernetes API (under /minik/v1, behind the same token):
 * the node's images. Pull progress streams as newline-delimited JSON so the CLI can draw bars.
 */
export function createMinikApi(deps: { images?: ImageService }): Hono {
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

  app.delete("/minik/v1/images/:ref{.+}", async (c) => {
    await images().remove(decodeURIComponent(c.req.param("ref")));
    return json({ kind: "Status", apiVersion: "v1", status: "Success" });
  });
  return app;
}
