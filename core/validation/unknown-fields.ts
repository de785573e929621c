import { type OpenApiSchema, resolveSchema } from "./openapi/schemas.ts";

type JsonMap = Record<string, unknown>;
const isMap = (v: unknown): v is JsonMap => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Finds the fields of `obj` that its schema does not know, as Kubernetes names them
 * (`spec.template.spec.containers[0].foo`), and removes them from `obj` when `prune` is set:
 * a built-in type cannot hold them, so kube-apiserver drops them on decode.
 */
export function unknownFields(
  obj: unknown,
  schema: OpenApiSchema,
  prune: boolean,
  skipTopLevel: readonly string[] = [],
): string[] {
  const found: string[] = [];
  const root = resolveSchema(schema);
  if (!isMap(obj) || !root.properties) return found;
  for (const key of Object.keys(obj)) {
    if (skipTopLevel.includes(key)) continue;
    const prop = root.properties[key];
    if (prop) walk(obj[key], prop, key, found, prune);
    else {
      found.push(key);
      if (prune) delete obj[key];
    }
  }
  return found;
}

function walk(value: unknown, raw: OpenApiSchema, path: string, found: string[], prune: boolean): void {
  const schema = resolveSchema(raw);
  if (schema["x-kubernetes-preserve-unknown-fields"]) return;
  if (Array.isArray(value)) {
    if (schema.items)
      for (const [i, item] of value.entries()) walk(item, schema.items, `${path}[${i}]`, found, prune);
    return;
  }
  if (!isMap(value)) return;
  if (schema.properties) {
    for (const key of Object.keys(value)) {
      const prop = schema.properties[key];
      const here = path ? `${path}.${key}` : key;
      if (prop) walk(value[key], prop, here, found, prune);
      else {
        found.push(here);
        if (prune) delete value[key];
      }
    }
  } else if (schema.additionalProperties) {
    for (const [key, v] of Object.entries(value))
      walk(v, schema.additionalProperties, `${path}[${key}]`, found, prune);
  }
}
