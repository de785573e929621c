import { ApiError } from "../errors.ts";

/**
 * JSON merge patch (RFC 7386, application/merge-patch+json): objects merge recursively, `null`
 * removes a key, anything else (lists included) replaces. Returns a new value.
 */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const result: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

/** The top level of a merge patch for an object must itself be an object. */
export function checkMergePatch(patch: unknown): Record<string, unknown> {
  if (!isMap(patch)) throw new ApiError("BadRequest", "merge patch must be a JSON object");
  return patch;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
