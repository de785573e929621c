import { ApiError } from "../errors.ts";

/** Deeper than any Kubernetes object; recursive code further on (clone, diff, patch) stays safe. */
export const MAX_DECODED_DEPTH = 1000;

/**
 * Checks a decoded body against bounds on its JSON size and nesting depth. YAML aliases decode to
 * shared references, so a small document can stand for a huge object (one 1 MB scalar aliased 99
 * times is 99 MB once stored or serialised): the walk counts every reference as the copy it will
 * become, and stops as soon as the budget is spent, so its own work is bounded by `maxBytes`.
 */
export function checkDecodedBounds(value: unknown, maxBytes: number, maxDepth = MAX_DECODED_DEPTH): void {
  let size = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) {
      throw new ApiError("BadRequest", `the request body is nested more than ${maxDepth} levels deep`);
    }
    if (typeof v === "string") size += v.length + 2;
    else if (v === null || typeof v !== "object") size += String(v).length;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      for (const [k, item] of Object.entries(v)) {
        size += k.length + 4;
        stack.push([item, depth + 1]);
      }
      size += 2;
    }
    if (size > maxBytes) {
      throw new ApiError(
        "RequestEntityTooLarge",
        `the decoded request body is larger than ${maxBytes} bytes (YAML aliases count once per use)`,
      );
    }
  }
}
