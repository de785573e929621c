import { ApiError } from "../errors.ts";
import { checkMergePatch, jsonMergePatch } from "./json-merge.ts";
import { jsonPatch } from "./json-patch.ts";
import { rootTypeOf } from "./patch-schema.ts";
import { strategicMerge } from "./strategic-merge.ts";

export type DocumentPatchType = "strategic" | "merge" | "json";

/** Applies a patch of the given content type to `document` (an object of `kind`); returns a new one. */
export function applyPatchDocument(
  type: DocumentPatchType,
  document: unknown,
  patch: unknown,
  kind: string,
): unknown {
  switch (type) {
    case "strategic":
      return strategicMerge(document, patch, rootTypeOf(kind));
    case "merge":
      return jsonMergePatch(document, checkMergePatch(patch));
    case "json":
      return jsonPatch(document, patch);
    default:
      throw new ApiError(
        "UnsupportedMediaType",
        `the body of the request was in an unknown format: ${String(type)}`,
      );
  }
}

/** A resourceVersion the patch body pins (`metadata.resourceVersion`, or a JSON patch setting it). */
export function pinnedResourceVersion(
  type: DocumentPatchType,
  patch: unknown,
  patched: unknown,
): string | undefined {
  if (type === "json") {
    const ops = patch as Array<{ path?: string }>;
    if (!ops.some((op) => op.path === "/metadata/resourceVersion")) return undefined;
    return (patched as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  }
  const rv = (patch as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}
