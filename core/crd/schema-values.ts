import type { StatusCause } from "../errors.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { invalid, notSupported, required } from "../validation/causes.ts";
import type { JsonSchema } from "./types.ts";

/**
 * Validation of a custom resource against its version's OpenAPI v3 schema, worded like
 * kube-apiserver's (`spec.replicas: Invalid value: 20: spec.replicas in body should be less than
 * or equal to 10`). Unknown fields are not errors here: pruning removes them first.
 */
export function validateValue(value: unknown, schema: JsonSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  check(value, schema, path, causes);
  return causes;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(v: unknown, type: string): boolean {
  const t = typeOf(v);
  return t === type || (type === "number" && t === "integer");
}

function check(value: unknown, s: JsonSchema, path: string, out: StatusCause[]): void {
  const where = path || "<root>";
  if (value === null) {
    if (!s.nullable && s.type)
      out.push(invalid(where, "null", `${where} in body must be of type ${s.type}: "null"`));
    return;
  }
  if (s["x-kubernetes-int-or-string"]) {
    if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value)))
      out.push(
        invalid(where, typeOf(value), `${where} in body must be of type integer,string: "${typeOf(value)}"`),
      );
  } else if (s.type && !typeMatches(value, s.type)) {
    out.push(invalid(where, typeOf(value), `${where} in body must be of type ${s.type}: "${typeOf(value)}"`));
    return;
  }
  if (s.enum && !s.enum.some((e) => deepEqual(e, value)))
    out.push(
      notSupported(
        where,
        value,
        s.enum.map((e) => (typeof e === "string" ? e : JSON.stringify(e))),
      ),
    );
  if (typeof value === "number") checkNumber(value, s, where, out);
  if (typeof value === "string") checkString(value, s, where, out);
  if (Array.isArray(value)) {
    if (s.maxItems !== undefined && value.length > s.maxItems)
      out.push({
        reason: "FieldValueTooMany",
        message: `Too many: ${value.length}: must have at most ${s.maxItems} items`,
        field: where,
      });
    if (s.minItems !== undefined && value.length < s.minItems)
      out.push(invalid(where, value.length, `${where} in body should have at least ${s.minItems} items`));
    if (s.uniqueItems)
      value.forEach((v, i) => {
        if (value.findIndex((w) => deepEqual(v, w)) < i)
          out.push({
            reason: "FieldValueDuplicate",
            message: `Duplicate value: ${JSON.stringify(v)}`,
            field: `${where}[${i}]`,
          });
      });
    if (s.items) for (const [i, v] of value.entries()) check(v, s.items!, `${path}[${i}]`, out);
  }
  if (typeOf(value) === "object") checkObject(value as Record<string, unknown>, s, path, out);
  for (const sub of s.allOf ?? []) check(value, sub, path, out);
  if (s.anyOf && !s.anyOf.some((sub) => validateValue(value, sub, path).length === 0))
    out.push(invalid(where, value, `${where} in body must match at least one schema (anyOf)`));
  if (s.oneOf && s.oneOf.filter((sub) => validateValue(value, sub, path).length === 0).length !== 1)
    out.push(invalid(where, value, `${where} in body must validate one and only one schema (oneOf)`));
  if (s.not && validateValue(value, s.not, path).length === 0)
    out.push(invalid(where, value, `${where} in body must not validate the schema (not)`));
}

function checkNumber(v: number, s: JsonSchema, where: string, out: StatusCause[]): void {
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
    out.push(
      invalid(
        where,
        v,
        `${where} in body should be less than ${s.exclusiveMaximum ? "" : "or equal to "}${s.maximum}`,
      ),
    );
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
    out.push(
      invalid(
        where,
        v,
        `${where} in body should be greater than ${s.exclusiveMinimum ? "" : "or equal to "}${s.minimum}`,
      ),
    );
  if (s.multipleOf && !Number.isInteger(v / s.multipleOf))
    out.push(invalid(where, v, `${where} in body should be a multiple of ${s.multipleOf}`));
}

function checkString(v: string, s: JsonSchema, where: string, out: StatusCause[]): void {
  const length = [...v].length;
  if (s.maxLength !== undefined && length > s.maxLength)
    out.push({
      reason: "FieldValueTooLong",
      message: `Too long: may not be more than ${s.maxLength} bytes`,
      field: where,
    });
  if (s.minLength !== undefined && length < s.minLength)
    out.push(invalid(where, v, `${where} in body should be at least ${s.minLength} chars long`));
  if (s.pattern !== undefined && !safeRegExp(s.pattern)?.test(v))
    out.push(invalid(where, v, `${where} in body should match '${s.pattern}'`));
}

function checkObject(v: Record<string, unknown>, s: JsonSchema, path: string, out: StatusCause[]): void {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  for (const key of s.required ?? []) if (!(key in v)) out.push(required(at(key)));
  const count = Object.keys(v).length;
  if (s.maxProperties !== undefined && count > s.maxProperties)
    out.push({
      reason: "FieldValueTooMany",
      message: `Too many: ${count}: must have at most ${s.maxProperties} items`,
      field: path || "<root>",
    });
  if (s.minProperties !== undefined && count < s.minProperties)
    out.push(
      invalid(path || "<root>", count, `${path} in body should have at least ${s.minProperties} properties`),
    );
  for (const [key, value] of Object.entries(v)) {
    const prop = s.properties?.[key];
    if (prop) check(value, prop, at(key), out);
    else if (typeof s.additionalProperties === "object")
      check(value, s.additionalProperties, `${path}[${key}]`, out);
  }
}

/**
 * A schema `pattern` (Go RE2 syntax, which Kubernetes uses) as a JS RegExp: RE2's inline flags
 * (`(?i)`, `(?i:…)`) become flags of the whole expression (wider than RE2's scope, never
 * narrower), `\A`/`\z` become `^`/`$`; unicode mode first, then the legacy mode that, like RE2,
 * accepts escapes such as `\-` outside classes.
 */
export function safeRegExp(pattern: string): RegExp | undefined {
  const inline = new Set<string>();
  const source = pattern
    .replace(/\(\?([imsU]+)\)/g, (_, f: string) => {
      for (const c of f) inline.add(c);
      return "";
    })
    .replace(/\(\?([imsU]+):/g, (_, f: string) => {
      for (const c of f) inline.add(c);
      return "(?:";
    })
    .replace(/\\A/g, "^")
    .replace(/\\z/g, "$");
  const extra = [...inline].filter((c) => c !== "U").join("");
  for (const flags of [`u${extra}`, extra]) {
    try {
      return new RegExp(source, flags);
    } catch {}
  }
  return undefined;
}
