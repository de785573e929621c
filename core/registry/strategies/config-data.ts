import type { KubeObject } from "../../object.ts";
import { deepEqual } from "../../patch/deep-equal.ts";
import { type Causes, forbidden } from "../../validation/causes.ts";

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
