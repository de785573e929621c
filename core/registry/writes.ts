import { ApiError, isApiError, type StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import type { WriteOptions } from "../seams/client.ts";
import { runAdmission } from "./admission.ts";
import {
  conflict,
  isConflict,
  type Kind,
  normalizeTypeMeta,
  notFound,
  type RegistryContext,
  validateObject,
  warn,
} from "./context.ts";
import { removeObject } from "./deletion.ts";
import { checkUnknownFields } from "./field-validation.ts";
import { recordUpdate } from "./managed-fields.ts";
import { finalizersDone, metaOf, newUid, randomSuffix, rfc3339 } from "./metadata.ts";
import { checkObjectSize } from "./object-size.ts";

export function scopeOf(kind: Kind, namespace: string | undefined): string {
  return kind.info.namespaced ? namespace || "default" : "";
}

/**
 * Runs `write` against the stored object. When the caller pinned a resourceVersion, a stale one is
 * a Conflict; otherwise the write is retried against the newest object until it lands.
 */
export async function retryUnlessPinned(
  ctx: RegistryContext,
  kind: Kind,
  obj: KubeObject,
  write: (old: KubeObject) => Promise<KubeObject>,
): Promise<KubeObject> {
  const name = obj.metadata?.name;
  if (!name)
    throw invalid(kind, "", [
      { reason: "FieldValueRequired", message: "Required value: name is required", field: "metadata.name" },
    ]);
  const namespace = scopeOf(kind, obj.metadata.namespace);
  const pinned = obj.metadata.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    const old = await ctx.store.get(kind.key, namespace, name);
    if (!old) throw notFound(kind, name);
    if (pinned && pinned !== old.metadata.resourceVersion) throw conflict(kind, name);
    try {
      return await write(old);
    } catch (e) {
      if (!isConflict(e) || pinned || attempt >= ctx.maxRetries)
        throw isConflict(e) ? conflict(kind, name) : e;
    }
  }
}

function invalid(kind: Kind, name: string, causes: StatusCause[]) {
  return ApiError.invalid(kind.info.kind, name, causes, kind.info.group);
}

export async function createObject(
  ctx: RegistryContext,
  kind: Kind,
  input: KubeObject,
  opts: WriteOptions = {},
): Promise<KubeObject> {
  const obj = structuredClone(input) as KubeObject;
  normalizeTypeMeta(ctx, kind, obj, opts);
  checkUnknownFields(ctx, kind, obj, opts);
  const meta = metaOf(obj);
  if (kind.info.namespaced) {
    meta.namespace ||= "default";
    await checkNamespaceOpen(ctx, meta.namespace);
  } else delete meta.namespace;
  const generated = !meta.name && !!meta.generateName;
  // Like Kubernetes' name generator: the base is cut so base + 5 random characters fit in 63.
  const base = meta.generateName?.slice(0, 58);
  if (generated) meta.name = base + randomSuffix();
  meta.uid = newUid();
  meta.creationTimestamp = rfc3339(ctx.now());
  for (const k of ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] as const)
    delete meta[k];
  if (kind.strategy.hasGeneration) meta.generation = 1;
  else delete meta.generation;
  kind.strategy.prepareForCreate?.(obj);
  kind.strategy.defaults?.(obj);
  if (opts.fieldManager) recordUpdate(undefined, obj, opts.fieldManager, ctx.now(), !kind.hasStatus);
  validateObject(kind, obj);
  checkObjectSize(kind, obj);
  for (const w of kind.strategy.warnings?.(obj) ?? []) warn(ctx, opts, w);
  const dryRun = !!opts.dryRun;
  const undo = await runAdmission(ctx.admit, {
    resource: kind.key,
    operation: "CREATE",
    object: obj,
    dryRun,
  });
  if (dryRun) return obj;
  for (let attempt = 0; ; attempt++) {
    try {
      return await ctx.store.create(kind.key, obj);
    } catch (e) {
      if (isApiError(e, "AlreadyExists") && generated && attempt < 3) {
        meta.name = base + randomSuffix();
        continue;
      }
      undo();
      if (isApiError(e, "AlreadyExists"))
        throw ApiError.alreadyExists(kind.info.plural, meta.name!, kind.info.group);
      throw e;
    }
  }
}

async function checkNamespaceOpen(ctx: RegistryContext, namespace: string): Promise<void> {
  const ns = await ctx.store.get("namespaces", "", namespace);
  if (!ns) throw ApiError.notFound("namespaces", namespace);
  if (ns.metadata.deletionTimestamp) {
    throw new ApiError(
      "Forbidden",
      `unable to create new content in namespace ${namespace} because it is being terminated`,
      { name: namespace, kind: "namespaces" },
    );
  }
}

/**
 * A spec/metadata update of `old` to `next`: server-owned metadata and (for kinds with a status
 * subresource) status carried over, generation bumped on spec change, a no-op not written, and an
 * object being deleted removed once its last finalizer goes.
 */
export async function updateObject(
  ctx: RegistryContext,
  kind: Kind,
  old: KubeObject,
  next: KubeObject,
  opts: WriteOptions = {},
  subresource?: "scale",
): Promise<KubeObject> {
  checkUnknownFields(ctx, kind, next, opts);
  const meta = metaOf(next);
  const oldMeta = old.metadata;
  if (meta.namespace && kind.info.namespaced && meta.namespace !== oldMeta.namespace) {
    throw new ApiError(
      "BadRequest",
      `the namespace of the object (${meta.namespace}) does not match the namespace on the request (${oldMeta.namespace})`,
    );
  }
  if (meta.name !== oldMeta.name) {
    throw invalid(kind, oldMeta.name!, [
      {
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(meta.name)}: field is immutable`,
        field: "metadata.name",
      },
    ]);
  }
  meta.namespace = oldMeta.namespace;
  if (!kind.info.namespaced) delete meta.namespace;
  meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  meta.resourceVersion = oldMeta.resourceVersion;
  copyOrDelete(meta, oldMeta, "deletionTimestamp");
  copyOrDelete(meta, oldMeta, "deletionGracePeriodSeconds");
  copyOrDelete(meta, oldMeta, "generation");
  delete meta.generateName;
  if (oldMeta.generateName) meta.generateName = oldMeta.generateName;
  if (kind.hasStatus) {
    if (old.status === undefined) delete next.status;
    else next.status = old.status;
  }
  if (meta.managedFields === undefined && oldMeta.managedFields) meta.managedFields = oldMeta.managedFields;
  kind.strategy.prepareForUpdate?.(next, old);
  kind.strategy.defaults?.(next);
  if (opts.fieldManager) recordUpdate(old, next, opts.fieldManager, ctx.now(), !kind.hasStatus, subresource);
  if (kind.strategy.hasGeneration && !deepEqual(next.spec, old.spec))
    meta.generation = (oldMeta.generation ?? 0) + 1;
  validateObject(kind, next, old);
  for (const w of kind.strategy.warnings?.(next) ?? []) warn(ctx, opts, w);
  if (deepEqual(next, old)) return old;
  return writeUpdate(ctx, kind, old, next, opts, subresource);
}

/** Replaces only the status of `old` (the /status subresource). */
export async function updateStatusOf(
  ctx: RegistryContext,
  kind: Kind,
  old: KubeObject,
  status: unknown,
  opts: WriteOptions = {},
): Promise<KubeObject> {
  if (deepEqual(status, old.status)) return old;
  const next: KubeObject = { ...old, metadata: { ...old.metadata } };
  if (status === undefined) delete next.status;
  else next.status = status;
  const causes = kind.strategy.validateStatus?.(next) ?? [];
  if (causes.length) throw invalid(kind, old.metadata.name ?? "", causes);
  return writeUpdate(ctx, kind, old, next, opts, "status");
}

/** Stores `next` in place of `old` after admission (a subresource's own rules already applied). */
export async function writeUpdate(
  ctx: RegistryContext,
  kind: Kind,
  old: KubeObject,
  next: KubeObject,
  opts: WriteOptions,
  subresource?: "status" | "scale" | "binding",
): Promise<KubeObject> {
  checkObjectSize(kind, next);
  const dryRun = !!opts.dryRun;
  const undo = await runAdmission(ctx.admit, {
    resource: kind.key,
    operation: "UPDATE",
    subresource,
    object: next,
    oldObject: old,
    dryRun,
  });
  if (dryRun) return next;
  try {
    if (
      next.metadata.deletionTimestamp &&
      finalizersDone(next) &&
      !next.metadata.deletionGracePeriodSeconds
    ) {
      return await removeObject(ctx, kind, next);
    }
    return await ctx.store.update(kind.key, next);
  } catch (e) {
    undo();
    throw e;
  }
}

function copyOrDelete<T extends object, K extends keyof T>(to: T, from: T, key: K): void {
  if (from[key] === undefined) delete to[key];
  else to[key] = from[key];
}
