import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { WriteOptions } from "../seams/client.ts";
import { OPENAPI_SCHEMAS, schemaNameFor } from "../validation/openapi/schemas.ts";
import { decodeProblems } from "../validation/unknown-fields.ts";
import { type Kind, type RegistryContext, warn } from "./context.ts";

/**
 * Decoding checks for writes that come with a `fieldValidation` mode (API requests; in-process
 * callers pass none and are trusted). A value of the wrong type is always a 400, as a typed
 * decoder cannot read it. Unknown fields: Strict → 400 naming them all, Warn → one warning each,
 * Ignore → silent; in every mode they are dropped, as a typed API server cannot store them.
 */
export function checkUnknownFields(
  ctx: RegistryContext,
  kind: Kind,
  obj: KubeObject,
  opts: WriteOptions | undefined,
): void {
  const mode = opts?.fieldValidation;
  if (!mode) return;
  const { group, version, kind: kindName } = kind.info;
  if (kind.unknownFields) {
    reportUnknown(ctx, opts, mode, kindName, version, kind.unknownFields(obj));
    return;
  }
  const name = schemaNameFor(group, version, kindName);
  const schema = name ? OPENAPI_SCHEMAS[name] : undefined;
  if (!schema) return;
  // Status is not written through this path for kinds with a /status subresource (it is kept as
  // stored), so fields others put there must not fail a user's write.
  const { unknown, wrongType } = decodeProblems(obj, schema, true, kind.hasStatus ? ["status"] : []);
  const cannot = `${kindName} in version "${version}" cannot be handled as a ${kindName}`;
  if (wrongType.length) throw new ApiError("BadRequest", `${cannot}: json: ${wrongType.join("; ")}`);
  reportUnknown(ctx, opts, mode, kindName, version, unknown);
}

function reportUnknown(
  ctx: RegistryContext,
  opts: WriteOptions | undefined,
  mode: string,
  kindName: string,
  version: string,
  unknown: string[],
): void {
  const cannot = `${kindName} in version "${version}" cannot be handled as a ${kindName}`;
  if (unknown.length === 0) return;
  if (mode === "Strict") {
    const list = unknown.map((f) => `unknown field "${f}"`).join(", ");
    throw new ApiError("BadRequest", `${cannot}: strict decoding error: ${list}`);
  }
  if (mode === "Warn") for (const f of unknown) warn(ctx, opts, `unknown field "${f}"`);
}
