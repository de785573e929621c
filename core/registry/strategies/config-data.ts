import type { KubeObject } from "../../object.ts";
import { deepEqual } from "../../patch/deep-equal.ts";
import { type Causes, forbidden, invalid } from "../../validation/causes.ts";

/**
 * ConfigMaps and Secrets marked `immutable: true`: their data may not change and the mark may
 * not be removed (delete and re-create instead).
 */
export function validateImmutableData(obj: KubeObject, old: KubeObject): Causes {
  if (old.immutable !== true) return [];
  const causes: Causes = [];
  if (obj.immutable !== true)
    causes.push(forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const field of ["data", "binaryData"]) {
    if (!deepEqual(obj[field], old[field]))
      causes.push(forbidden(field, "field is immutable when `immutable` is set"));
  }
  return causes;
}

export const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * ConfigMap `data` and `binaryData`: maps of valid config keys to strings (binaryData base64),
 * no key in both. A number or an object as a value is refused as Kubernetes' decoder refuses it
 * (else `kubectl describe cm` breaks on it later).
 */
export function validateConfigMapData(obj: KubeObject): Causes {
  const causes: Causes = [];
  const data = mapField(obj, "data", causes);
  const binary = mapField(obj, "binaryData", causes);
  for (const [field, map] of [
    ["data", data],
    ["binaryData", binary],
  ] as const) {
    for (const [k, v] of Object.entries(map)) {
      if (!CONFIG_KEY.test(k) || k.length > 253)
        causes.push(
          invalid(field, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"),
        );
      if (typeof v !== "string") causes.push(invalid(`${field}[${k}]`, v, "must be a string"));
      else if (field === "binaryData" && !BASE64.test(v))
        causes.push(invalid(`${field}[${k}]`, "<binary data>", "illegal base64 data"));
      else if (field === "binaryData" && k in data)
        causes.push(invalid(`${field}[${k}]`, k, "duplicate of key present in data"));
    }
  }
  return causes;
}

function mapField(obj: KubeObject, field: string, causes: Causes): Record<string, unknown> {
  const v = obj[field];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    causes.push(invalid(field, v, "must be a map of strings"));
    return {};
  }
  return v as Record<string, unknown>;
}
