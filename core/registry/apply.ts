import type { ManagedFieldsEntry } from "kubernetes-types/meta/v1";
import { parse as parseYaml } from "yaml";
import { ApiError, isApiError, type StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { rootTypeOf } from "../patch/patch-schema.ts";
import { strategicMerge } from "../patch/strategic-merge.ts";
import type { WriteOptions } from "../seams/client.ts";
import { conflict, isConflict, type Kind, normalizeTypeMeta, type RegistryContext } from "./context.ts";
import { checkUnknownFields } from "./field-validation.ts";
import {
  describePath,
  type FieldPath,
  fieldSetOf,
  managedEntry,
  pathKeys,
  removePath,
  toFieldsV1,
} from "./managed-fields.ts";
import { metaOf } from "./metadata.ts";
import { createObject, updateObject } from "./writes.ts";

/**
 * Server-side apply (application/apply-patch+yaml): creates the object when missing, otherwise
 * merges the applied fields into it. The manager owns exactly the fields it applied: a field it
 * applied before and leaves out now is removed (unless another manager owns it), and changing
 * a field another manager owns is a 409 listing each FieldManagerConflict, unless `force`.
 */
export async function applyObject(
  ctx: RegistryContext,
  kind: Kind,
  namespace: string,
  name: string,
  body: unknown,
  opts: WriteOptions & { force?: boolean },
): Promise<KubeObject> {
  const manager = opts.fieldManager;
  if (!manager)
    throw new ApiError(
      "BadRequest",
      "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
    );
  const applied = parseBody(body);
  normalizeTypeMeta(ctx, kind, applied, opts);
  checkUnknownFields(ctx, kind, applied, opts);
  const meta = metaOf(applied);
  if (meta.name && meta.name !== name) {
    throw new ApiError(
      "BadRequest",
      `the name of the object (${meta.name}) does not match the name on the URL (${name})`,
    );
  }
  meta.name = name;
  if (kind.info.namespaced) meta.namespace = namespace;
  const pinned = meta.resourceVersion;
  delete meta.resourceVersion;
  delete meta.managedFields;
  const appliedFields = fieldSetOf(applied, false);
  const inner = { ...opts, fieldManager: undefined, fieldValidation: undefined };
  for (let attempt = 0; ; attempt++) {
    const old = await ctx.store.get(kind.key, namespace, name);
    try {
      if (!old) {
        const obj = structuredClone(applied);
        metaOf(obj).managedFields = [
          managedEntry(manager, "Apply", kind.apiVersion, pathsOf(appliedFields.paths.keys()), ctx.now()),
        ];
        return await createObject(ctx, kind, obj, inner);
      }
      if (pinned && pinned !== old.metadata.resourceVersion) throw conflict(kind, name);
      return await updateObject(
        ctx,
        kind,
        old,
        mergeApplied(ctx, kind, old, applied, appliedFields.paths, manager, !!opts.force),
        inner,
      );
    } catch (e) {
      const raced = isConflict(e) || (isApiError(e, "AlreadyExists") && !old);
      if (!raced || pinned || attempt >= ctx.maxRetries || (isConflict(e) && (e as ApiError).details?.causes))
        throw e;
    }
  }
}

function parseBody(body: unknown): KubeObject {
  const obj =
    typeof body === "string" || body instanceof Uint8Array
      ? parseYaml(typeof body === "string" ? body : new TextDecoder().decode(body))
      : structuredClone(body);
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new ApiError("BadRequest", "apply patch must be a YAML or JSON object");
  }
  return obj as KubeObject;
}

const CLIENT_SIDE_APPLY = "kubectl-client-side-apply";
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Field paths of the object's last-applied-configuration annotation (client-side apply). */
function lastAppliedFields(live: KubeObject): Set<string> {
  const text = live.metadata.annotations?.[LAST_APPLIED];
  if (!text) return new Set();
  try {
    const config = JSON.parse(text) as KubeObject;
    config.kind ??= live.kind;
    config.metadata ??= {};
    return new Set(fieldSetOf(config, false).paths.keys());
  } catch {
    return new Set();
  }
}

function pathsOf(keys: Iterable<string>): FieldPath[] {
  return [...keys].map((k) => JSON.parse(k) as FieldPath);
}

function mergeApplied(
  ctx: RegistryContext,
  kind: Kind,
  live: KubeObject,
  applied: KubeObject,
  appliedPaths: Map<string, { path: FieldPath; value: unknown }>,
  manager: string,
  force: boolean,
): KubeObject {
  const entries = (live.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const isMine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === "Apply";
  const others = entries.filter((e) => !isMine(e)).map((e) => ({ entry: e, keys: pathKeys(e) }));
  const liveFields = fieldSetOf(live, false).paths;

  const conflicts: StatusCause[] = [];
  const taken = new Set<string>();
  const declaredByClientSideApply = lastAppliedFields(live);
  for (const [key, { path, value }] of appliedPaths) {
    if (deepEqual(liveFields.get(key)?.value, value)) continue;
    for (const o of others) {
      if (!o.keys.has(key)) continue;
      taken.add(key);
      // Moving from `kubectl apply` to `kubectl apply --server-side`: fields the user declared
      // through client-side apply change hands without a conflict, as kube-apiserver allows.
      if (o.entry.manager === CLIENT_SIDE_APPLY && declaredByClientSideApply.has(key)) continue;
      conflicts.push({
        reason: "FieldManagerConflict",
        message: `conflict with "${o.entry.manager}"${o.entry.subresource ? ` with subresource "${o.entry.subresource}"` : ""}`,
        field: describePath(path),
      });
    }
  }
  if (conflicts.length && !force) {
    const list = conflicts.map((c) => `${c.message}: ${c.field}`).join("\n- ");
    throw new ApiError(
      "Conflict",
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}: ${list}`,
      {
        name: live.metadata.name,
        group: kind.info.group,
        kind: kind.info.plural,
        causes: conflicts,
      },
    );
  }

  const body = structuredClone(applied);
  delete body.status;
  const merged = strategicMerge(live, body, rootTypeOf(kind.info.kind)) as KubeObject;
  // Fields this manager applied last time and no longer applies go, unless someone else owns them.
  const before = entries.find(isMine);
  const ownedByOthers = (key: string) => others.some((o) => o.keys.has(key) && !taken.has(key));
  for (const key of before ? pathKeys(before) : []) {
    if (!appliedPaths.has(key) && !ownedByOthers(key))
      removePath(merged as never, JSON.parse(key) as FieldPath);
  }
  const fresh = managedEntry(manager, "Apply", kind.apiVersion, pathsOf(appliedPaths.keys()), ctx.now());
  // Unchanged ownership keeps its timestamp, so re-applying the same config writes nothing.
  const mine = before && deepEqual(before.fieldsV1, fresh.fieldsV1) ? before : fresh;
  const nextEntries: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (isMine(e)) {
      nextEntries.push(mine);
      continue;
    }
    const keys = others.find((o) => o.entry === e)!.keys;
    const keep = [...keys].filter((k) => !taken.has(k));
    if (keep.length === keys.size) nextEntries.push(e);
    else if (keep.length) nextEntries.push({ ...e, fieldsV1: toFieldsV1(pathsOf(keep)) });
  }
  if (!before) nextEntries.push(mine);
  metaOf(merged).managedFields = nextEntries;
  return merged;
}
