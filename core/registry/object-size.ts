import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Kind } from "./context.ts";

/** etcd's default request limit, which bounds every Kubernetes object: 1.5 MiB. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** Refuses to store an object whose JSON is larger than MAX_OBJECT_BYTES (413, naming both sizes). */
export function checkObjectSize(kind: Kind, obj: KubeObject, limit = MAX_OBJECT_BYTES): void {
  const json = JSON.stringify(obj);
  // a UTF-16 length below a third of the limit cannot exceed it in UTF-8; skip the encoding
  const bytes = json.length * 3 <= limit ? json.length : new TextEncoder().encode(json).byteLength;
  if (bytes <= limit) return;
  const name = obj.metadata?.name ?? obj.metadata?.generateName ?? "";
  throw new ApiError(
    "RequestEntityTooLarge",
    `${kind.info.kind} "${name}" is too large to store: ${bytes} bytes, the limit is ${limit} bytes`,
    { name, group: kind.info.group, kind: kind.info.plural },
  );
}
