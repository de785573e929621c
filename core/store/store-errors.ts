import type { KubeObject } from "../object.ts";

/**
 * The errors the store raises, in the store's own words: what went wrong (`code`) and which
 * object (`key` and `name`). The store knows no HTTP: the registry, the only caller facing the
 * API, turns these into Kubernetes `Status` answers (core/registry/store-error-status.ts).
 */
export type StoreErrorCode =
  /** No object by that name. */
  | "NotFound"
  /** The name is taken. */
  | "AlreadyExists"
  /** The object changed since the caller read it (optimistic concurrency). */
  | "Conflict"
  /** A delete precondition (uid, resourceVersion) does not hold. */
  | "PreconditionFailed"
  /** A watch asked for a revision compacted away, or newer than the store's (a reset store). */
  | "Expired"
  /** The object cannot be stored (no name). */
  | "InvalidObject"
  /** A resourceVersion that is not a revision number. */
  | "InvalidRevision"
  /** The store was closed. */
  | "Closed"
  /** The datastore cannot be reached (a shared database down or cut off); retry later. */
  | "Unavailable"
  /** The database refused the write, or another process changed it. */
  | "Internal";

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    /** The object concerned: its store key (`deployments.apps`) and name. */
    readonly object?: { key: string; name: string },
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}

/** The errors about one object, named by its store key and name. */
export function storeErrors(key: string, name: string) {
  const object = { key, name };
  const what = `${key} "${name}"`;
  return {
    notFound: () => new StoreError("NotFound", `${what} not found`, object),
    alreadyExists: () => new StoreError("AlreadyExists", `${what} already exists`, object),
    conflict: () => new StoreError("Conflict", `${what} was changed since it was read`, object),
    precondition: (what: string, wanted: string, actual: string | undefined) =>
      new StoreError(
        "PreconditionFailed",
        `Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual ?? ""}`,
        object,
      ),
  };
}

/** A delete's preconditions against the stored object and its revision; PreconditionFailed when one fails. */
export function checkPreconditions(
  err: ReturnType<typeof storeErrors>,
  preconditions: { resourceVersion?: string; uid?: string } | undefined,
  stored: KubeObject,
  revision: number,
): void {
  if (preconditions?.uid && preconditions.uid !== stored.metadata.uid)
    throw err.precondition("UID", preconditions.uid, stored.metadata.uid);
  if (preconditions?.resourceVersion && preconditions.resourceVersion !== String(revision))
    throw err.precondition("ResourceVersion", preconditions.resourceVersion, String(revision));
}

export function identify(resource: string, obj: KubeObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  if (!name) {
    throw new StoreError("InvalidObject", `${resource}: metadata.name is required to store an object`);
  }
  return { namespace: obj.metadata.namespace ?? "", name };
}

/** `what` names the request for the message: `pods "web-1"`, `a watch of pods`. */
export function parseRevision(what: string, rv: string): number {
  if (!/^\d+$/.test(rv)) {
    throw new StoreError(
      "InvalidRevision",
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

/** A datastore URL without its password: messages and logs name the endpoint, never the secret. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, "$1:***@");
}
