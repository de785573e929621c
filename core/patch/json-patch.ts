import fastJsonPatch, { type Operation } from "fast-json-patch";
import { ApiError } from "../errors.ts";

// fast-json-patch is CommonJS: Deno and Node accept only its default export (Bun tolerates either).
const { applyPatch } = fastJsonPatch;

/**
 * JSON patch (RFC 6902, application/json-patch+json), as `kubectl rollout undo` and
 * `kubectl patch --type json` send it. Returns a new document; a failing operation (including
 * `test`) is Invalid (422) naming the operation, as kube-apiserver reports it.
 */
export function jsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations))
    throw new ApiError("BadRequest", "json patch must be a JSON array of operations");
  for (const [i, op] of operations.entries()) {
    if (typeof op !== "object" || op === null || typeof (op as Operation).op !== "string") {
      throw new ApiError("BadRequest", `json patch operation ${i} is not an object with an "op"`);
    }
  }
  try {
    return applyPatch(structuredClone(document), operations as Operation[], true, true).newDocument;
  } catch (e) {
    const err = e as { message?: string; index?: number; operation?: Operation };
    const first = (err.message ?? String(e)).split("\n")[0];
    const where = err.operation ? ` (operation ${err.index ?? "?"}: ${JSON.stringify(err.operation)})` : "";
    throw new ApiError(
      "Invalid",
      `the server rejected our request due to an error in our request: ${first}${where}`,
    );
  }
}
