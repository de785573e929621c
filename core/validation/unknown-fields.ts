import { type OpenApiSchema, resolveSchema } from "./openapi/schemas.ts";

type JsonMap = Record<string, unknown>;
const isMap = (v: unknown): v is JsonMap => typeof v === "object" && v !== null && !Array.isArray(v);

/** What decoding an object against its schema found. */
export interface DecodeProblems {
  /** Fields the schema does not know, as Kubernetes names them (`spec.template.spec.containers[0].foo`). */
  unknown: string[];
  /** Values of the wrong JSON type, worded like Go's decoder (`cannot unmarshal string into … of type int32`). */
  wrongType: string[];
}

/**
 * Checks `obj` against its schema like kube-apiserver's decoder: unknown fields (removed from
 * `obj` when `prune` is set, since a built-in type cannot hold them) and values of the wrong
 * type (integers in their int32/int64 range, booleans, objects and lists; a string field takes a
 * number, since quantities and int-or-string may be written as numbers, but no object, list or bool).
 */
export function decodeProblems(
  obj: unknown,
  schema: OpenApiSchema,
  prune: boolean,
  skipTopLevel: readonly string[] = [],
): DecodeProblems {
  const problems: DecodeProblems = { unknown: [], wrongType: [] };
  const root = resolveSchema(schema);
  if (!isMap(obj) || !root.properties) return problems;
  for (const key of Object.keys(obj)) {
    if (skipTopLevel.includes(key)) continue;
    const prop = root.properties[key];
    if (prop && obj[key] === null && prune) {
      delete obj[key];
      continue;
    }
    if (prop) walk(obj[key], prop, key, problems, prune);
    else {
      problems.unknown.push(key);
      if (prune) delete obj[key];
    }
  }
  return problems;
}

/**
 * Fields of type resource.Quantity, which the schemas inline as plain strings: maps of them
 * (requests, limits, …) and single ones. MetricTarget's `value` sits beside `averageValue`.
 */
const QUANTITY_FIELDS = new Set([
  "requests",
  "limits",
  "capacity",
  "allocatable",
  "overhead",
  "hard",
  "used",
  "allocatedResources",
  "sizeLimit",
  "divisor",
  "averageValue",
]);

function isQuantity(key: string, parent: OpenApiSchema): boolean {
  return QUANTITY_FIELDS.has(key) || (key === "value" && !!parent.properties?.averageValue);
}

const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2 ** 63;

/** Kubernetes counts are int32 (replicas, ports, …); a larger number cannot be decoded. */
function fitsInteger(value: number, format: string | undefined): boolean {
  if (format === "int32") return value >= -INT32_MAX - 1 && value <= INT32_MAX;
  return value >= -INT64_MAX && value < INT64_MAX;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return "array";
  return typeof v === "object" ? "object" : typeof v === "boolean" ? "bool" : typeof v;
}

function walk(
  value: unknown,
  raw: OpenApiSchema,
  path: string,
  problems: DecodeProblems,
  prune: boolean,
  quantity = false,
): void {
  if (value === null || value === undefined) return;
  const schema = resolveSchema(raw);
  if (schema["x-kubernetes-preserve-unknown-fields"]) return;
  const wrong = (goType: string): void => {
    problems.wrongType.push(
      `cannot unmarshal ${jsonType(value)} into Go struct field ${path} of type ${goType}`,
    );
  };
  switch (schema.type) {
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) wrong(schema.format ?? "int64");
      else if (!fitsInteger(value, schema.format)) {
        problems.wrongType.push(
          `cannot unmarshal number ${value} into Go struct field ${path} of type ${schema.format ?? "int64"}`,
        );
      }
      return;
    case "number":
      if (typeof value !== "number") wrong("float64");
      return;
    case "boolean":
      if (typeof value !== "boolean") wrong("bool");
      return;
    case "string":
      // a number passes only where a quantity (`cpu: 1`) or an int-or-string may stand
      if (
        typeof value === "number" ? !quantity && schema.format !== "int-or-string" : typeof value !== "string"
      )
        wrong("string");
      return;
    case "array":
      if (!Array.isArray(value)) {
        wrong("array");
        return;
      }
      if (schema.items)
        for (const [i, item] of value.entries()) {
          // a typed list holds no null entries (`containers: [null]` has no name to validate)
          if (item === null)
            problems.wrongType.push(`cannot unmarshal null into Go struct field ${path}[${i}]`);
          else walk(item, schema.items, `${path}[${i}]`, problems, prune);
        }
      return;
  }
  if (!isMap(value)) {
    if (schema.properties || schema.additionalProperties) wrong("object");
    return;
  }
  if (schema.properties) {
    for (const key of Object.keys(value)) {
      const prop = schema.properties[key];
      const here = `${path}.${key}`;
      // Go decodes null into the zero value, which an omitempty field then leaves out
      if (prop && value[key] === null && prune) {
        delete value[key];
        continue;
      }
      if (prop) walk(value[key], prop, here, problems, prune, isQuantity(key, schema));
      else {
        problems.unknown.push(here);
        if (prune) delete value[key];
      }
    }
  } else if (schema.additionalProperties) {
    for (const [key, v] of Object.entries(value))
      walk(v, schema.additionalProperties, `${path}[${key}]`, problems, prune, quantity);
  }
}
