import { expect, test } from "bun:test";
import { ApiError } from "../errors.ts";
import type { ImageDetails, ImageService } from "../seams/image-service.ts";
import { createMinikApi } from "./minik-api.ts";
import { statusResponse } from "./respond.ts";
import { FakeNodeServices } from "./testing/fake-node-services.ts";

const details: ImageDetails = {
  name: "docker.io/library/nginx:1.7.9",
  id: "sha256:abc",
  size: 10,
  config: { Cmd: ["nginx"] },
  layers: [{ diffId: "sha256:l1", sizeBytes: 5, createdBy: "ADD rootfs" }],
  history: [{ createdBy: "ADD rootfs", emptyLayer: false }],
};
const images: ImageService = {
  list: async () => [],
  pull: async () => details,
  remove: async () => {},
  load: async () => [],
  inspect: async (ref) => {
    if (ref !== "nginx:1.7.9") throw new ApiError("NotFound", `image "${ref}" is not present`);
    return details;
  },
};

test("GET /minik/v1/namespaces/NS/pods/NAME/inspect answers the node's inspection of the container", async () => {
  const app = createMinikApi({ images, node: new FakeNodeServices() });
  const res = await app.request("/minik/v1/namespaces/default/pods/web/inspect?container=app");
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(body.kind).toBe("ContainerInspection");
  expect(body.pod).toBe("web");
  expect(body.cgroup.cpu.percentOfOneCpu).toBe(30);
  expect(body.rootfs.changes.deleted).toEqual(["/etc/motd"]);
});

/** As the API server mounts it: errors become Kubernetes Status answers. */
function served(deps: Parameters<typeof createMinikApi>[0]) {
  const app = createMinikApi(deps);
  app.onError((e) => statusResponse(e));
  return app;
}

test("inspect without a node is 503 naming why; an unknown image is 404; a known one has its layers", async () => {
  const noNode = await served({ images }).request("/minik/v1/namespaces/default/pods/web/inspect");
  expect(noNode.status).toBe(503);
  expect((await noNode.json()).message).toContain("without a node");
  const app = served({ images, node: new FakeNodeServices() });
  expect((await app.request("/minik/v1/namespaces/default/pods/nope/inspect")).status).toBe(404);
  expect((await app.request("/minik/v1/images/busybox%3A9")).status).toBe(404);
  const got = await app.request("/minik/v1/images/nginx%3A1.7.9");
  expect((await got.json()).layers[0].createdBy).toBe("ADD rootfs");
});
