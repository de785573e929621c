import type { WriteOptions } from "../client.ts";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { OPENAPI_SCHEMAS, schemaNameFor } from "../validation/openapi/schemas.ts";
import { unknownFields } from "../validation/unknown-fields.ts";
import { type Kind, type RegistryContext, warn } from "./context.ts";

/**
 * `fieldValidation` for fields the kind's schema does not know: Strict → 400 naming them all,
 * Warn → one warning each, Ignore → silently dropped. Unset (in-process callers) skips the check.
 * Unknown fields are removed from `obj` in every mode, as a typed API server cannot store them.
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
  const name = schemaNameFor(group, version, kindName);
  const schema = name ? OPENAPI_SCHEMAS[name] : undefined;
  if (!schema) return;
  // Status is not written through this path for kinds with a /status subresource (it is kept as
  // stored), so fields others put there must not fail a user's write.
  const unknown = unknownFields(obj, schema, true, kind.hasStatus ? ["status"] : []);
  if (unknown.length === 0) return;
  if (mode === "Strict") {
    const list = unknown.map((f) => `unknown field "${f}"`).join(", ");
    throw new ApiError(
      "BadRequest",
      `${kindName} in version "${version}" cannot be handled as a ${kindName}: strict decoding error: ${list}`,
    );
  }
  if (mode === "Warn") for (const f of unknown) warn(ctx, opts, `unknown field "${f}"`);
}
