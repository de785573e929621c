import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";

/**
 * A hook that sees every write before it is stored (after defaulting and validation), like an
 * admission plugin. It may mutate `object` (e.g. allocate a Service clusterIP) or throw an
 * ApiError to reject the write. If it returns a function, that function is called when the
 * write does not happen after all (dry run excluded: hooks see `dryRun` and should not allocate).
 */
export interface AdmissionRequest {
  /** Store key, e.g. `services`, `deployments.apps`. */
  resource: string;
  operation: "CREATE" | "UPDATE" | "DELETE";
  subresource?: "status" | "scale" | "binding";
  /** The object to be written; for DELETE the object as stored. */
  object: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

export type AdmissionHook = (
  request: AdmissionRequest,
) => undefined | (() => void) | Promise<undefined | (() => void)> | void | Promise<void>;

/** Called after an object has been removed from the store (not for graceful marking). */
export type DeletedListener = (resource: string, object: KubeObject) => void;

/** Runs hooks in order; returns one function that undoes all that asked for it. */
export async function runAdmission(
  hooks: readonly AdmissionHook[],
  request: AdmissionRequest,
): Promise<() => void> {
  const undo: Array<() => void> = [];
  try {
    for (const hook of hooks) {
      const r = await hook(request);
      if (typeof r === "function") undo.push(r);
    }
  } catch (e) {
    rollback(undo);
    throw e;
  }
  return () => rollback(undo);
}

function rollback(undo: Array<() => void>): void {
  for (const u of undo.reverse()) {
    try {
      u();
    } catch {
      // A failing rollback must not hide the error that caused it.
    }
  }
}

/** An admission plugin's refusal: 403 `<resource> "<name>" is forbidden: <why>`, as upstream's NewForbidden. */
export function admissionForbidden(resource: string, name: string, why: string): ApiError {
  const [plural = "", ...group] = resource.split(".");
  return new ApiError("Forbidden", `${resource} "${name}" is forbidden: ${why}`, {
    name,
    group: group.join("."),
    kind: plural,
  });
}
