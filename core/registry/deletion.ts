import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { DeleteOptions } from "../seams/client.ts";
import { runAdmission } from "./admission.ts";
import { conflict, isConflict, type Kind, notFound, type RegistryContext } from "./context.ts";
import { finalizersDone, metaOf, rfc3339 } from "./metadata.ts";

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";
const UNDELETABLE_NAMESPACES = ["default", "kube-system", "kube-public"];

/**
 * DELETE as kube-apiserver does it:
 * - a pod bound to a node is deleted gracefully: deletionTimestamp (now + grace) and
 *   deletionGracePeriodSeconds are set, the node agent stops it and deletes again with grace 0;
 * - an object with finalizers (including those added for Foreground/Orphan propagation) gets a
 *   deletionTimestamp and stays until an update empties its finalizers;
 * - a namespace turns Terminating; the namespace controller empties it and its spec.finalizers;
 * - anything else is removed at once (Background: the garbage collector removes dependents).
 */
export async function deleteObject(
  ctx: RegistryContext,
  kind: Kind,
  namespace: string,
  name: string,
  opts: DeleteOptions,
): Promise<KubeObject> {
  if (kind.info.kind === "Namespace" && UNDELETABLE_NAMESPACES.includes(name)) {
    throw new ApiError("Forbidden", `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
      name,
      kind: "namespaces",
    });
  }
  const pinned = opts.preconditions?.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    const old = await ctx.store.get(kind.key, namespace, name);
    if (!old) throw notFound(kind, name);
    checkPreconditions(kind, old, opts);
    try {
      return await deleteOnce(ctx, kind, old, opts);
    } catch (e) {
      if (!isConflict(e) || pinned || attempt >= ctx.maxRetries)
        throw isConflict(e) ? conflict(kind, name) : e;
    }
  }
}

function checkPreconditions(kind: Kind, obj: KubeObject, opts: DeleteOptions): void {
  const { uid, resourceVersion } = opts.preconditions ?? {};
  const name = obj.metadata.name!;
  if (uid && uid !== obj.metadata.uid) {
    throw new ApiError(
      "Conflict",
      `Operation cannot be fulfilled on ${kind.info.plural}${kind.info.group ? `.${kind.info.group}` : ""} "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata.uid}`,
      { name, group: kind.info.group, kind: kind.info.plural },
    );
  }
  if (resourceVersion && resourceVersion !== obj.metadata.resourceVersion) {
    throw new ApiError(
      "Conflict",
      `Operation cannot be fulfilled on ${kind.info.plural}${kind.info.group ? `.${kind.info.group}` : ""} "${name}": Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      { name, group: kind.info.group, kind: kind.info.plural },
    );
  }
}

async function deleteOnce(
  ctx: RegistryContext,
  kind: Kind,
  old: KubeObject,
  opts: DeleteOptions,
): Promise<KubeObject> {
  const dryRun = !!opts.dryRun;
  const undo = await runAdmission(ctx.admit, {
    resource: kind.key,
    operation: "DELETE",
    object: old,
    oldObject: old,
    dryRun,
  });
  const next: KubeObject = { ...old, metadata: { ...old.metadata } };
  const meta = metaOf(next);
  const finalizers = [...(meta.finalizers ?? [])];
  const add = (f: string) => !finalizers.includes(f) && finalizers.push(f);
  if (opts.propagationPolicy === "Foreground") add(FOREGROUND);
  if (opts.propagationPolicy === "Orphan") add(ORPHAN);
  if (finalizers.length) meta.finalizers = finalizers;
  const grace = kind.strategy.gracePeriodSeconds?.(old, opts.gracePeriodSeconds) ?? 0;

  if (kind.info.kind === "Namespace") {
    next.status = { ...(old.status as object), phase: "Terminating" };
  }
  if (meta.deletionTimestamp) {
    // Already being deleted: only a shorter grace period changes anything.
    const current = meta.deletionGracePeriodSeconds ?? 0;
    if (grace >= current && finalizers.length === (old.metadata.finalizers?.length ?? 0)) return old;
    if (grace < current) {
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = rfc3339(new Date(ctx.now().getTime() + grace * 1000));
    }
  } else if (grace > 0 || !finalizersDone(next)) {
    meta.deletionTimestamp = rfc3339(new Date(ctx.now().getTime() + grace * 1000));
    meta.deletionGracePeriodSeconds = grace;
  }
  if (dryRun) return meta.deletionTimestamp ? next : old;
  try {
    if (!meta.deletionTimestamp || (finalizersDone(next) && !meta.deletionGracePeriodSeconds)) {
      return await removeObject(ctx, kind, old);
    }
    return await ctx.store.update(kind.key, next);
  } catch (e) {
    undo();
    throw e;
  }
}

/** Removes the object from the store (precondition: it is unchanged) and tells the listeners. */
export async function removeObject(ctx: RegistryContext, kind: Kind, obj: KubeObject): Promise<KubeObject> {
  const { namespace, name, resourceVersion } = obj.metadata;
  const removed = await ctx.store.delete(kind.key, namespace ?? "", name!, { resourceVersion });
  for (const listener of ctx.onDeleted) {
    try {
      listener(kind.key, removed);
    } catch {
      // A listener's failure must not turn a completed delete into an error.
    }
  }
  return removed;
}
