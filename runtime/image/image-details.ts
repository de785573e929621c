import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ImageDetails } from "../../core/seams/image-service.ts";
import type { ResolvedImage } from "./image-store.ts";

/** Directory entries counted at most per layer: a size is a figure to show, not worth an unbounded walk. */
const MAX_ENTRIES = 200_000;

/** Bytes of the regular files below a directory (symlinks and whiteouts count as nothing). */
export function directorySize(dir: string): { bytes: number; complete: boolean } {
  let bytes = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (++seen > MAX_ENTRIES) return { bytes, complete: false };
      const path = join(d, name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) stack.push(path);
      else if (st?.isFile()) bytes += st.size;
    }
  }
  return { bytes, complete: true };
}

/**
 * An image as `docker image inspect` and `docker history` describe it. The history's non-empty
 * steps pair up, in order, with the layers (the OCI image spec's rule), which is how a layer gets
 * the `created_by` line that made it.
 */
export function imageDetails(
  image: ResolvedImage,
  sizeOf = (dir: string) => directorySize(dir).bytes,
): ImageDetails {
  const history = image.meta.history.map((h) => ({
    ...(h.created ? { created: h.created } : {}),
    ...(h.created_by ? { createdBy: h.created_by } : {}),
    ...(h.comment ? { comment: h.comment } : {}),
    emptyLayer: !!h.empty_layer,
  }));
  const layerSteps = history.filter((h) => !h.emptyLayer);
  const layers = image.diffIds.map((diffId, i) => {
    const createdBy = layerSteps[i]?.createdBy;
    return { diffId, sizeBytes: sizeOf(image.layerDirs[i]!), ...(createdBy ? { createdBy } : {}) };
  });
  return {
    name: image.ref.name,
    id: image.ref.id,
    ...(image.ref.digest ? { digest: image.ref.digest } : {}),
    size: image.ref.size,
    ...(image.meta.created ? { created: image.meta.created } : {}),
    ...(image.meta.architecture ? { architecture: image.meta.architecture } : {}),
    ...(image.meta.os ? { os: image.meta.os } : {}),
    config: { ...image.config },
    layers,
    history,
  };
}
