import type { StatusCause } from "../errors.ts";
import { forbidden, invalid, required } from "../validation/causes.ts";
import { prune } from "./prune-defaults.ts";
import { safeRegExp, validateValue } from "./schema-values.ts";
import type { JsonSchema } from "./types.ts";

const TYPES = ["object", "array", "string", "integer", "number", "boolean"];
/** What a node inside allOf/anyOf/oneOf/not may not say: the shape belongs to the outer node. */
const NOT_IN_JUNCTORS = [
  "type",
  "default",
  "nullable",
  "additionalProperties",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
];

/**
 * The rules that make a CRD version's schema *structural* (what Kubernetes requires of
 * apiextensions.k8s.io/v1): every specified node has a type (or says int-or-string or
 * preserve-unknown-fields), the root is an object, no $ref, properties and additionalProperties
 * not both, arrays have items, logic junctors do not redefine the shape, metadata at the root
 * restricts at most name and generateName, and defaults validate against their node.
 * `path` is the field path of the schema (`spec.versions[0].schema.openAPIV3Schema`).
 */
export function structuralProblems(schema: JsonSchema, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!schema.type) out.push(required(`${path}.type`, "must not be empty at the root"));
  else if (schema.type !== "object")
    out.push(invalid(`${path}.type`, schema.type, "must be object at the root"));
  const meta = schema.properties?.metadata;
  if (meta) {
    const extra = Object.keys(meta.properties ?? {}).filter((k) => k !== "name" && k !== "generateName");
    if (
      extra.length ||
      meta.type !== "object" ||
      Object.keys(meta).some((k) => !["type", "properties", "description"].includes(k))
    )
      out.push(
        forbidden(
          `${path}.properties[metadata]`,
          "must not specify anything other than name and generateName, but metadata is implicitly specified",
        ),
      );
  }
  node(schema, path, true, out, "at the root");
  return out;
}

function node(s: JsonSchema, path: string, root: boolean, out: StatusCause[], where: string): void {
  if (s.$ref !== undefined) out.push(forbidden(`${path}.$ref`, "$ref is not supported"));
  const typeless = s["x-kubernetes-int-or-string"] || s["x-kubernetes-preserve-unknown-fields"];
  if (!root && !s.type && !typeless)
    out.push(required(`${path}.type`, `must not be empty for specified ${where}`));
  if (s.type && !TYPES.includes(s.type))
    out.push(invalid(`${path}.type`, s.type, `must be one of ${TYPES.map((t) => `"${t}"`).join(", ")}`));
  if (s["x-kubernetes-preserve-unknown-fields"] === false)
    out.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, "must be true or undefined"));
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== false)
    out.push(
      forbidden(`${path}.additionalProperties`, "additionalProperties and properties are mutual exclusive"),
    );
  if (s.type === "array" && !s.items) out.push(required(`${path}.items`, "must be specified"));
  if (s.pattern !== undefined && !safeRegExp(s.pattern))
    out.push(invalid(`${path}.pattern`, s.pattern, "must be a valid regular expression"));
  for (const [key, prop] of Object.entries(s.properties ?? {}))
    node(prop, `${path}.properties[${key}]`, false, out, "object fields");
  if (typeof s.additionalProperties === "object")
    node(s.additionalProperties, `${path}.additionalProperties`, false, out, "additionalProperties");
  if (s.items) node(s.items, `${path}.items`, false, out, "array items");
  for (const j of ["allOf", "anyOf", "oneOf"] as const)
    for (const [i, sub] of (s[j] ?? []).entries())
      junctor(sub, `${path}.${j}[${i}]`, out, !!s["x-kubernetes-int-or-string"] && j !== "oneOf");
  if (s.not) junctor(s.not, `${path}.not`, out);
  if (s.default !== undefined && !root) {
    const copy = structuredClone(s.default);
    const problems = [...prune(copy, s), ...validateValue(copy, s, "").map((c) => c.message)];
    if (
      typeof s.default === "object" &&
      s.default !== null &&
      JSON.stringify(copy) !== JSON.stringify(s.default)
    )
      out.push(invalid(`${path}.default`, s.default, "must not have unknown fields"));
    else if (problems.length) out.push(invalid(`${path}.default`, s.default, problems.join(", ")));
  }
}

/**
 * A node inside allOf/anyOf/oneOf/not. Under `x-kubernetes-int-or-string` the pattern
 * controller-gen writes for IntOrString and Quantity (`anyOf: [{type: integer}, {type: string}]`)
 * is allowed, as Kubernetes allows it.
 */
function junctor(s: JsonSchema, path: string, out: StatusCause[], intOrString = false): void {
  for (const key of NOT_IN_JUNCTORS) {
    if (s[key] === undefined) continue;
    if (key === "type" && intOrString && (s.type === "integer" || s.type === "string")) continue;
    out.push(forbidden(`${path}.${key}`, "must be empty to be structural"));
  }
  for (const j of ["allOf", "anyOf"] as const)
    for (const [i, sub] of (s[j] ?? []).entries()) junctor(sub, `${path}.${j}[${i}]`, out, intOrString);
  for (const [key, prop] of Object.entries(s.properties ?? {}))
    junctor(prop, `${path}.properties[${key}]`, out);
  if (s.items) junctor(s.items, `${path}.items`, out);
}
