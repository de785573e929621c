import { RESOURCES } from "../resources.ts";
import { fieldsOf, hasMessage, type MessageField, messageName } from "./protobuf/fields.ts";

/**
 * OpenAPI v3 component schemas for the served kinds, derived from the protobuf field tables (the
 * same facts: every field, its JSON name and type). They carry no descriptions, but they are
 * enough for `kubectl explain deployment.spec` to walk fields and show their types.
 */
export type Schemas = Record<string, Record<string, unknown>>;

const SPECIAL: Record<string, Record<string, unknown>> = {
  "meta.v1.Time": { type: "string", format: "date-time" },
  "meta.v1.MicroTime": { type: "string", format: "date-time" },
  "util.intstr.IntOrString": { type: "string", format: "int-or-string", "x-kubernetes-int-or-string": true },
  "api.resource.Quantity": { type: "string", "x-kubernetes-int-or-string": true },
  "runtime.RawExtension": { type: "object" },
  "meta.v1.FieldsV1": { type: "object" },
  "meta.v1.Duration": { type: "string" },
};

/** `io.k8s.api.apps.v1.Deployment`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`, … */
export function componentName(message: string): string {
  if (message.startsWith("meta.")) return `io.k8s.apimachinery.pkg.apis.${message}`;
  if (message.startsWith("util.") || message.startsWith("api.") || message.startsWith("runtime."))
    return `io.k8s.apimachinery.pkg.${message}`;
  return `io.k8s.api.${message}`;
}

/** Schemas for every served kind of one group-version and all they reference. */
export function schemasFor(group: string, version: string): Schemas {
  const out: Schemas = {};
  const visit = (message: string, gvk?: { group: string; version: string; kind: string }) => {
    const name = componentName(message);
    if (out[name]) return;
    if (SPECIAL[message]) {
      out[name] = SPECIAL[message]!;
      return;
    }
    const properties: Record<string, unknown> = {};
    out[name] = { type: "object", properties, ...(gvk ? { "x-kubernetes-group-version-kind": [gvk] } : {}) };
    for (const field of fieldsOf(message).values()) {
      properties[field.name] = fieldSchema(field);
      if (!isScalar(field.type)) visit(field.type);
    }
    if (gvk) {
      properties.apiVersion = { type: "string" };
      properties.kind = { type: "string" };
    }
  };
  for (const info of RESOURCES) {
    if (info.group !== group || info.version !== version) continue;
    const message = messageName(info.group, info.version, info.kind);
    if (hasMessage(message)) visit(message, { group, version, kind: info.kind });
  }
  return out;
}

function fieldSchema(field: MessageField): Record<string, unknown> {
  const one = isScalar(field.type)
    ? scalar(field.type)
    : { $ref: `#/components/schemas/${componentName(field.type)}` };
  if (field.label === "r") return { type: "array", items: one };
  if (field.label === "m") return { type: "object", additionalProperties: one };
  return one;
}

function isScalar(type: string): boolean {
  return !type.includes(".");
}

function scalar(type: string): Record<string, unknown> {
  switch (type) {
    case "string":
      return { type: "string" };
    case "bytes":
      return { type: "string", format: "byte" };
    case "bool":
      return { type: "boolean" };
    case "double":
    case "float":
      return { type: "number", format: "double" };
    default:
      return { type: "integer", format: type.endsWith("32") ? "int32" : "int64" };
  }
}
