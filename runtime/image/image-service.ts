import { ApiError } from "../../core/errors.ts";
import { type ContainerRuntime, RuntimeError } from "../../core/seams/container-runtime.ts";
import type { ImageService } from "../../core/seams/image-service.ts";
import { imageDetails } from "./image-details.ts";
import type { ImageStore } from "./image-store.ts";

/**
 * The node's images as the API's image endpoints (`/minik/v1/images`) see them: a pull there
 * always asks the registry, and an image a live container uses cannot be removed.
 */
export function createImageService(
  images: ImageStore,
  runtime: Pick<ContainerRuntime, "listContainers">,
): ImageService {
  return {
    list: async () => images.list(),
    pull: (ref, onProgress) => images.pull(ref, { policy: "Always", onProgress }).catch(asApiError),
    async remove(ref) {
      const used = new Set(
        (await runtime.listContainers()).filter((c) => c.state !== "exited").map((c) => c.imageId),
      );
      await images.remove(ref, { inUse: (id) => used.has(id) }).catch(asApiError);
    },
    load: (archive) => images.load(archive).catch(asApiError),
    async inspect(ref) {
      const image = images.resolve(ref);
      if (!image)
        throw new ApiError("NotFound", `image "${ref}" is not present on this node (see \`minik image ls\`)`);
      return imageDetails(image);
    },
  };
}

function asApiError(e: unknown): never {
  if (e instanceof RuntimeError) {
    // the image store's reasons, not its wording, decide the HTTP status
    const reason =
      e.reason === "ImageInUse" ? "Conflict" : e.reason === "ImageNotFound" ? "NotFound" : "BadRequest";
    throw new ApiError(reason, e.message);
  }
  throw e;
}
