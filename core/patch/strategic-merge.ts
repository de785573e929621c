import { ApiError } from "../errors.ts";
import { deepEqual } from "./deep-equal.ts";
import { type FieldPatch, fieldPatch } from "./patch-schema.ts";

/**
 * Strategic merge patch (application/strategic-merge-patch+json), what `kubectl apply`,
 * `set image`, `rollout restart` and plain `kubectl patch` send:
 * - maps merge recursively; `null` deletes a key;
 * - lists with a merge key (patch-schema.ts) merge item by item; `{"$patch":"delete",key}`
 *   removes an item; other lists are atomic and replaced;
 * - `$patch: replace` (map or list) replaces wholesale, `$patch: delete` on a map removes it;
 * - `$setElementOrder/<f>` reorders, `$deleteFromPrimitiveList/<f>` removes scalars,
 *   `$retainKeys` drops the keys of a map not listed (union types such as strategy, volumes).
 * Returns a new value; `original` is not modified.
 */
export function strategicMerge(original: unknown, patch: unknown, type: string): unknown {
  if (!isMap(patch)) throw new ApiError("BadRequest", "strategic merge patch must be a JSON object");
  const merged = mergeMap(isMap(original) ? original : undefined, patch, type);
  return merged === DELETE ? {} : merged;
}

type JsonMap = Record<string, unknown>;
const DELETE = Symbol("delete");
const SET_ORDER = "$setElementOrder/";
const DELETE_FROM = "$deleteFromPrimitiveList/";

function isMap(v: unknown): v is JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mergeMap(
  original: JsonMap | undefined,
  patch: JsonMap,
  type: string | undefined,
): JsonMap | typeof DELETE {
  const directive = patch.$patch;
  if (directive === "delete") return DELETE;
  if (directive === "replace") return clean(patch) as JsonMap;
  if (directive !== undefined && directive !== "merge") {
    throw new ApiError(
      "BadRequest",
      `unknown patch type: ${JSON.stringify(directive)} in strategic merge patch`,
    );
  }
  const result: JsonMap = original ? { ...original } : {};
  const orders: Array<[string, unknown[]]> = [];
  const removals: Array<[string, unknown[]]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) {
      if (key.startsWith(SET_ORDER)) orders.push([key.slice(SET_ORDER.length), asList(key, value)]);
      else if (key.startsWith(DELETE_FROM))
        removals.push([key.slice(DELETE_FROM.length), asList(key, value)]);
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const fp = fieldPatch(type, key);
    if (Array.isArray(value)) {
      if (fp?.mergeKey) result[key] = mergeList(result[key], value, fp, key);
      else if (fp?.primitiveMerge) result[key] = union(result[key], value);
      else result[key] = clean(value);
    } else if (isMap(value)) {
      const merged = mergeMap(isMap(result[key]) ? (result[key] as JsonMap) : undefined, value, fp?.type);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [field, values] of removals) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = list.filter((x) => !values.some((v) => deepEqual(v, x)));
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (Array.isArray(list))
      result[field] = reorder(list, order, fieldPatch(type, field)?.mergeKey, original?.[field]);
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    const keep = new Set(asList("$retainKeys", retain));
    for (const k of Object.keys(result)) if (!keep.has(k)) delete result[k];
  }
  return result;
}

function mergeList(original: unknown, patch: unknown[], fp: FieldPatch, field: string): unknown[] {
  const mergeKey = fp.mergeKey!;
  if (patch.some((item) => isMap(item) && item.$patch === "replace")) {
    return clean(patch.filter((item) => !(isMap(item) && item.$patch === "replace"))) as unknown[];
  }
  let result = Array.isArray(original) ? [...original] : [];
  for (const item of patch) {
    if (!isMap(item)) {
      if (!result.some((x) => deepEqual(x, item))) result.push(item);
      continue;
    }
    const key = item[mergeKey];
    if (key === undefined) {
      throw new ApiError(
        "BadRequest",
        `map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey} (in ${field})`,
      );
    }
    const index = result.findIndex((x) => isMap(x) && deepEqual(x[mergeKey], key));
    if (item.$patch === "delete") {
      result = result.filter((x) => !(isMap(x) && deepEqual(x[mergeKey], key)));
      continue;
    }
    const merged = mergeMap(index >= 0 ? (result[index] as JsonMap) : undefined, item, fp.type);
    if (merged === DELETE) result.splice(index, index >= 0 ? 1 : 0);
    else if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

function union(original: unknown, patch: unknown[]): unknown[] {
  const result = Array.isArray(original) ? [...original] : [];
  for (const v of patch) if (!result.some((x) => deepEqual(x, v))) result.push(v);
  return result;
}

/**
 * Orders a merged list by `$setElementOrder`: the named items in that order, with items only
 * the server has (not named) kept where they stood relative to the named items that were already
 * there, as kube-apiserver does.
 */
function reorder(
  list: unknown[],
  order: unknown[],
  mergeKey: string | undefined,
  before: unknown,
): unknown[] {
  const keyOf = (x: unknown) => (mergeKey && isMap(x) ? x[mergeKey] : x);
  const keys = order.map(keyOf);
  const named = (x: unknown) => keys.some((k) => deepEqual(keyOf(x), k));
  const original = Array.isArray(before) ? before : [];
  const serverIndex = (x: unknown) => original.findIndex((o) => deepEqual(keyOf(o), keyOf(x)));
  const placed = keys.flatMap((k) => list.filter((x) => deepEqual(keyOf(x), k)));
  const serverOnly = list.filter((x) => !named(x));
  const out: unknown[] = [];
  for (const item of placed) {
    const at = serverIndex(item);
    while (at >= 0 && serverOnly.length && serverIndex(serverOnly[0]) < at) out.push(serverOnly.shift());
    out.push(item);
  }
  return [...out, ...serverOnly];
}

function asList(key: string, value: unknown): unknown[] {
  if (!Array.isArray(value))
    throw new ApiError("BadRequest", `${key} must be a list in a strategic merge patch`);
  return value;
}

/** A copy without patch directives or null map entries: how new values enter the object. */
function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (!isMap(value)) return value;
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith("$") || v === null) continue;
    out[k] = clean(v);
  }
  return out;
}
