import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";

/**
 * The errors the SqlStore raises, worded as Kubernetes words them. Store keys are
 * `plural[.group]`; ApiError wants the two apart.
 */

/** `deployments.apps` → resource "deployments", group "apps" (the words ApiError wants). */
function splitKey(key: string): { plural: string; group: string } {
  const dot = key.indexOf(".");
  return dot < 0 ? { plural: key, group: "" } : { plural: key.slice(0, dot), group: key.slice(dot + 1) };
}

export function storeErrors(key: string, name: string) {
  const { plural, group } = splitKey(key);
  return {
    notFound: () => ApiError.notFound(plural, name, group),
    alreadyExists: () => ApiError.alreadyExists(plural, name, group),
    conflict: () => ApiError.conflict(plural, name, group),
    precondition: (what: string, wanted: string, actual: string | undefined) =>
      new ApiError(
        "Conflict",
        `Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual ?? ""}`,
        { name, group, kind: plural },
      ),
  };
}

export function identify(resource: string, obj: KubeObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  if (!name) {
    throw new ApiError("Invalid", `${resource}: metadata.name is required to store an object`);
  }
  return { namespace: obj.metadata.namespace ?? "", name };
}

/** `what` names the request for the message: `pods "web-1"`, `a watch of pods`. */
export function parseRevision(what: string, rv: string): number {
  if (!/^\d+$/.test(rv)) {
    throw new ApiError(
      "BadRequest",
      `${what}: resourceVersion "${rv}" is not a decimal number; send a resourceVersion you read, or none`,
    );
  }
  return Number(rv);
}

/** The message of an error, following drizzle's "Failed query" wrapper to the database's own words. */
export function errorText(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : e instanceof Error ? e.message : String(e);
}
