import { describe, expect, test } from "bun:test";
import { type ApiError, isApiError } from "../../core/errors.ts";
import { type ContainerStatus, RuntimeError } from "../../core/seams/container-runtime.ts";
import { createImageService } from "./image-service.ts";
import type { ImageStore } from "./image-store.ts";

const web = { name: "docker.io/library/web:1", id: "sha256:web", size: 1 };

/** An image store that knows `web` and fails the way the real one does for the rest. */
function fakeStore(seen: { policy?: string; inUse?: boolean }): ImageStore {
  return {
    root: "/nowhere",
    resolve: () => undefined,
    list: () => [web],
    async pull(ref, options) {
      seen.policy = options?.policy;
      if (ref === "web:1") return web;
      throw new RuntimeError("ErrImagePull", `pulling ${ref}: manifest unknown`);
    },
    async remove(ref, options) {
      if (ref !== "web:1") throw new RuntimeError("ImageNotFound", `image "${ref}" not found`);
      seen.inUse = options?.inUse?.(web.id);
      if (seen.inUse) throw new RuntimeError("ImageInUse", `image "${ref}" is used by a container`);
    },
    load: async () => {
      throw new Error("not a tar archive");
    },
  };
}

const running = (state: ContainerStatus["state"]) => ({
  listContainers: async () => [{ imageId: web.id, state } as ContainerStatus],
});

describe("the node's ImageService over the image store", () => {
  test("a pull always asks the registry; the list is the store's", async () => {
    const seen: { policy?: string } = {};
    const images = createImageService(fakeStore(seen), running("running"));
    expect(await images.pull("web:1")).toEqual(web);
    expect(seen.policy).toBe("Always");
    expect(await images.list()).toEqual([web]);
  });

  test("the store's reasons decide the API status; its words are kept", async () => {
    const images = createImageService(fakeStore({}), running("running"));
    const inUse = (await images.remove("web:1").catch((e) => e)) as ApiError;
    expect([inUse.code, inUse.message]).toEqual([409, 'image "web:1" is used by a container']);
    expect(isApiError(await images.remove("nope:1").catch((e) => e), "NotFound")).toBe(true);
    expect(isApiError(await images.pull("nope:1").catch((e) => e), "BadRequest")).toBe(true);
    // anything that is not the store's RuntimeError passes unchanged (an internal error)
    const broken = await images.load(new ReadableStream()).catch((e) => e);
    expect(isApiError(broken)).toBe(false);
  });

  test("only live containers hold an image", async () => {
    const seen: { inUse?: boolean } = {};
    await createImageService(fakeStore(seen), running("exited")).remove("web:1");
    expect(seen.inUse).toBe(false);
  });
});
