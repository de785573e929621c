import type { ManagedFieldsEntry } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../object.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { fieldPatch, rootTypeOf } from "../patch/patch-schema.ts";
import { rfc3339 } from "./metadata.ts";

/**
 * Field ownership (metadata.managedFields, FieldsV1), minimal but in Kubernetes' format:
 * a field set is the set of leaf paths an object sets, where path elements are `f:<field>`,
 * `k:{"<mergeKey>":<value>}` for items of keyed lists (with `.` marking the item itself) and
 * `v:<value>` for set-like scalar lists. Atomic lists and scalars are leaves.
 */
export type FieldPath = string[];

export interface FieldSet {
  /** Path key (JSON of the path) → path and the value found there. */
  paths: Map<string, { path: FieldPath; value: unknown }>;
}

/** Server-owned metadata that no manager owns. */
const UNOWNED_META = new Set([
  "name",
  "namespace",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
  "generateName",
]);

type JsonMap = Record<string, unknown>;
const isMap = (v: unknown): v is JsonMap => typeof v === "object" && v !== null && !Array.isArray(v);

/** The fields `obj` sets; `withStatus` false leaves out status (owned via the subresource). */
export function fieldSetOf(obj: KubeObject, withStatus: boolean): FieldSet {
  const set: FieldSet = { paths: new Map() };
  const add = (path: FieldPath, value: unknown) => set.paths.set(JSON.stringify(path), { path, value });
  const walk = (value: JsonMap, type: string | undefined, prefix: FieldPath, top: boolean) => {
    for (const [key, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      if (top && (key === "apiVersion" || key === "kind" || (key === "status" && !withStatus))) continue;
      if (prefix.length === 1 && prefix[0] === "f:metadata" && UNOWNED_META.has(key)) continue;
      const fp = fieldPatch(type, key);
      const here = [...prefix, `f:${key}`];
      if (Array.isArray(v) && fp?.mergeKey) {
        for (const item of v) {
          if (!isMap(item)) continue;
          const el = `k:${JSON.stringify({ [fp.mergeKey]: item[fp.mergeKey] })}`;
          add([...here, el, "."], undefined);
          walk(item, fp.type, [...here, el], false);
        }
      } else if (Array.isArray(v) && fp?.primitiveMerge) {
        for (const item of v) add([...here, `v:${JSON.stringify(item)}`], item);
      } else if (isMap(v) && Object.keys(v).length > 0) {
        walk(v, fp?.type, here, false);
      } else {
        add(here, v);
      }
    }
  };
  walk(obj as unknown as JsonMap, rootTypeOf(obj.kind), [], true);
  return set;
}

/** FieldsV1 tree (`{"f:spec":{"f:replicas":{}}}`) of a set of paths. */
export function toFieldsV1(paths: Iterable<FieldPath>): JsonMap {
  const root: JsonMap = {};
  for (const path of paths) {
    let node = root;
    for (const el of path) {
      node[el] ??= {};
      node = node[el] as JsonMap;
    }
  }
  return root;
}

/** Paths of a FieldsV1 tree. */
export function fromFieldsV1(tree: unknown, prefix: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  if (!isMap(tree)) return out;
  for (const [el, child] of Object.entries(tree)) {
    if (isMap(child) && Object.keys(child).length > 0) fromFieldsV1(child, [...prefix, el], out);
    else out.push([...prefix, el]);
  }
  return out;
}

export function pathKeys(entry: ManagedFieldsEntry): Set<string> {
  return new Set(fromFieldsV1(entry.fieldsV1).map((p) => JSON.stringify(p)));
}

/** `.spec.template.spec.containers[name="nginx"].image`, as Kubernetes names a conflicting field. */
export function describePath(path: FieldPath): string {
  let out = "";
  for (const el of path) {
    if (el.startsWith("f:")) out += `.${el.slice(2)}`;
    else if (el.startsWith("k:")) {
      const key = JSON.parse(el.slice(2)) as JsonMap;
      out += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    } else if (el.startsWith("v:")) out += `[=${el.slice(2)}]`;
  }
  return out;
}

/**
 * Removes the field at `path` from `obj` (in place); a `.` path removes the list item itself.
 * Maps left empty by the removal go too, as nobody set them.
 */
export function removePath(obj: JsonMap, path: FieldPath): void {
  removeAt(obj, path, 0);
}

function removeAt(node: unknown, path: FieldPath, i: number): boolean {
  const el = path[i]!;
  const last = i === path.length - 1 || (i === path.length - 2 && path[i + 1] === ".");
  if (el.startsWith("f:")) {
    if (!isMap(node)) return false;
    const key = el.slice(2);
    if (last || (removeAt(node[key], path, i + 1) && isMap(node[key]))) delete node[key];
    return Object.keys(node).length === 0;
  }
  if (!Array.isArray(node)) return false;
  const wanted = JSON.parse(el.slice(2)) as unknown;
  const index = node.findIndex((x) =>
    el.startsWith("k:")
      ? isMap(x) && Object.entries(wanted as JsonMap).every(([k, v]) => deepEqual(x[k], v))
      : deepEqual(x, wanted),
  );
  if (index < 0) return false;
  if (last) node.splice(index, 1);
  else removeAt(node[index], path, i + 1);
  return false;
}

export function managedEntry(
  manager: string,
  operation: "Apply" | "Update",
  apiVersion: string,
  paths: Iterable<FieldPath>,
  now: Date,
  subresource?: string,
): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: rfc3339(now),
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(paths),
    ...(subresource ? { subresource } : {}),
  };
}

/**
 * Records an Update by `manager`: it takes ownership of every field whose value changed (from
 * other managers too), as kube-apiserver's field manager does for non-apply writes.
 */
export function recordUpdate(
  old: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  now: Date,
  withStatus: boolean,
  subresource?: string,
): void {
  const after = fieldSetOf(next, withStatus);
  const before = old ? fieldSetOf(old, withStatus) : undefined;
  const changed: string[] = [];
  for (const [key, { value }] of after.paths) {
    const was = before?.paths.get(key);
    if (!was || !deepEqual(was.value, value)) changed.push(key);
  }
  const entries = [...((next.metadata.managedFields ?? []) as ManagedFieldsEntry[])];
  const mine = entries.findIndex(
    (e) => e.manager === manager && e.operation === "Update" && (e.subresource ?? "") === (subresource ?? ""),
  );
  if (changed.length === 0 && mine >= 0) return;
  const changedSet = new Set(changed);
  const result: ManagedFieldsEntry[] = [];
  for (const [i, e] of entries.entries()) {
    if (i === mine) continue;
    const keep = [...pathKeys(e)].filter((k) => !changedSet.has(k) && after.paths.has(k));
    if (keep.length) result.push({ ...e, fieldsV1: toFieldsV1(keep.map((k) => JSON.parse(k) as FieldPath)) });
  }
  const owned = new Set(
    [...(mine >= 0 ? pathKeys(entries[mine]!) : []), ...changed].filter((k) => after.paths.has(k)),
  );
  if (owned.size) {
    result.push(
      managedEntry(
        manager,
        "Update",
        next.apiVersion,
        [...owned].map((k) => JSON.parse(k) as FieldPath),
        now,
        subresource,
      ),
    );
  }
  (next.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields = result;
}
