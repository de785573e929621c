import type { JsonSchema } from "./types.ts";

type JsonMap = Record<string, unknown>;
const isMap = (v: unknown): v is JsonMap => typeof v === "object" && v !== null && !Array.isArray(v);

/** Fields an object keeps at the root and in embedded resources whatever the schema says. */
const TYPE_META = ["apiVersion", "kind", "metadata"];

/**
 * Removes every field the structural schema does not specify (unless the node says
 * `x-kubernetes-preserve-unknown-fields`), in place; returns the removed paths
 * (`spec.foo`), which strict field validation reports as unknown fields.
 */
export function prune(obj: unknown, schema: JsonSchema, root = true, path = ""): string[] {
  const pruned: string[] = [];
  walkPrune(obj, schema, path, root, pruned);
  return pruned;
}

function walkPrune(value: unknown, s: JsonSchema, path: string, root: boolean, out: string[]): void {
  if (Array.isArray(value)) {
    if (s.items) for (const [i, v] of value.entries()) walkPrune(v, s.items!, `${path}[${i}]`, false, out);
    return;
  }
  if (!isMap(value)) return;
  const keepMeta = root || s["x-kubernetes-embedded-resource"];
  const preserve = s["x-kubernetes-preserve-unknown-fields"] || s.additionalProperties === true;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (keepMeta && TYPE_META.includes(key)) continue;
    const prop = s.properties?.[key];
    if (prop) walkPrune(value[key], prop, here, false, out);
    else if (isMap(s.additionalProperties))
      walkPrune(value[key], s.additionalProperties, `${path}[${key}]`, false, out);
    else if (!preserve) {
      delete value[key];
      out.push(here);
    }
  }
}

/** Fills `default`s of absent (or null, when not nullable) fields, in place, top-down. */
export function applyDefaults(value: unknown, s: JsonSchema): void {
  if (Array.isArray(value)) {
    if (s.items) for (const v of value) applyDefaults(v, s.items);
    return;
  }
  if (!isMap(value)) return;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const absent = !(key in value) || (value[key] === null && !prop.nullable);
    if (absent && prop.default !== undefined) value[key] = structuredClone(prop.default);
    if (key in value) applyDefaults(value[key], prop);
  }
  if (isMap(s.additionalProperties))
    for (const [key, v] of Object.entries(value))
      if (!s.properties?.[key]) applyDefaults(v, s.additionalProperties);
}
