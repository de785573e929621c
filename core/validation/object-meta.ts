import type { ObjectMeta } from "kubernetes-types/meta/v1";
import { type Causes, forbidden, invalid, required } from "./causes.ts";
import { labelValue, type NameRule, qualifiedName } from "./names.ts";

const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Validates labels, e.g. `metadata.labels` or `spec.template.metadata.labels`. */
export function validateLabels(labels: Record<string, string> | undefined, field: string): Causes {
  const causes: Causes = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const e of qualifiedName(k)) causes.push(invalid(field, k, e));
    if (typeof v !== "string") causes.push(invalid(`${field}.${k}`, v, "must be a string"));
    else for (const e of labelValue(v)) causes.push(invalid(field, v, e));
  }
  return causes;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, field: string): Causes {
  const causes: Causes = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const e of qualifiedName(k.toLowerCase())) causes.push(invalid(field, k, e));
    if (typeof v !== "string") causes.push(invalid(`${field}.${k}`, v, "must be a string"));
    else size += k.length + v.length;
  }
  if (size > MAX_ANNOTATIONS_BYTES) {
    causes.push({
      reason: "FieldValueTooLong",
      message: `Too long: must have at most ${MAX_ANNOTATIONS_BYTES} bytes`,
      field,
    });
  }
  return causes;
}

/** Name, labels, annotations, finalizers of an object about to be written. */
export function validateObjectMeta(meta: ObjectMeta, nameRule: NameRule, namespaced: boolean): Causes {
  const causes: Causes = [];
  if (!meta.name) causes.push(required("metadata.name", "name or generateName is required"));
  else if (typeof meta.name !== "string")
    causes.push(invalid("metadata.name", meta.name, "must be a string"));
  else for (const e of nameRule(meta.name)) causes.push(invalid("metadata.name", meta.name, e));
  if (namespaced && !meta.namespace) causes.push(required("metadata.namespace"));
  if (!namespaced && meta.namespace) causes.push(forbidden("metadata.namespace", "not allowed on this type"));
  causes.push(...validateLabels(meta.labels, "metadata.labels"));
  causes.push(...validateAnnotations(meta.annotations, "metadata.annotations"));
  causes.push(...validateOwnerReferences(meta.ownerReferences));
  for (const [i, f] of (meta.finalizers ?? []).entries()) {
    if (typeof f !== "string") causes.push(invalid(`metadata.finalizers[${i}]`, f, "must be a string"));
    else for (const e of qualifiedName(f)) causes.push(invalid(`metadata.finalizers[${i}]`, f, e));
  }
  return causes;
}

function validateOwnerReferences(refs: ObjectMeta["ownerReferences"]): Causes {
  const causes: Causes = [];
  let controllers = 0;
  for (const [i, ref] of (refs ?? []).entries()) {
    const f = `metadata.ownerReferences[${i}]`;
    for (const k of ["apiVersion", "kind", "name", "uid"] as const) {
      if (!ref[k]) causes.push(required(`${f}.${k}`, `${k} must not be empty`));
    }
    if (ref.controller) controllers++;
  }
  if (controllers > 1) {
    causes.push(
      invalid("metadata.ownerReferences", refs, "Only one reference can have Controller set to true"),
    );
  }
  return causes;
}
