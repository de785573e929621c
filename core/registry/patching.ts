import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { applyPatchDocument, pinnedResourceVersion } from "../patch/apply-patch.ts";
import type { PatchType, WriteOptions } from "../seams/client.ts";
import {
  conflict,
  isConflict,
  type Kind,
  normalizeTypeMeta,
  notFound,
  type RegistryContext,
} from "./context.ts";
import { metaOf } from "./metadata.ts";
import { checkScalable, replicasOf, toScaleOf, withReplicasOf } from "./scale.ts";
import { updateObject, updateStatusOf } from "./writes.ts";

export type PatchOptions = WriteOptions & { subresource?: "status" | "scale"; force?: boolean };

/**
 * PATCH of an object, its status or its scale. A patch without a resourceVersion is applied to
 * the newest object and retried when another write wins the race, so it never fails with 409
 * (`kubectl set image` does not retry); a resourceVersion in the body is a precondition.
 */
export async function patchObject(
  ctx: RegistryContext,
  kind: Kind,
  namespace: string,
  name: string,
  type: Exclude<PatchType, "apply">,
  body: unknown,
  opts: PatchOptions,
): Promise<KubeObject> {
  const sub = opts.subresource;
  if (sub === "scale") checkScalable(kind);
  for (let attempt = 0; ; attempt++) {
    const old = await ctx.store.get(kind.key, namespace, name);
    if (!old) throw notFound(kind, name);
    const current = sub === "scale" ? toScaleOf(kind, old) : old;
    const patched = applyPatchDocument(
      type,
      current,
      body,
      sub === "scale" ? "Scale" : kind.info.kind,
    ) as KubeObject;
    if (typeof patched !== "object" || patched === null || Array.isArray(patched)) {
      throw new ApiError(
        "BadRequest",
        `the patch turned ${kind.key} "${name}" into something that is not an object`,
      );
    }
    const pinned = pinnedResourceVersion(type, body, patched);
    if (pinned && pinned !== old.metadata.resourceVersion) throw conflict(kind, name);
    try {
      if (sub === "scale") {
        const replicas = replicasOf(patched);
        const next = withReplicasOf(kind, old, replicas);
        return toScaleOf(kind, await updateObject(ctx, kind, old, next, opts, "scale"));
      }
      if (sub === "status") return await updateStatusOf(ctx, kind, old, patched.status, opts);
      patched.metadata ??= {};
      normalizeTypeMeta(ctx, kind, patched, opts);
      metaOf(patched).resourceVersion = old.metadata.resourceVersion;
      return await updateObject(ctx, kind, old, patched, opts);
    } catch (e) {
      if (!isConflict(e) || pinned || attempt >= ctx.maxRetries)
        throw isConflict(e) ? conflict(kind, name) : e;
    }
  }
}
