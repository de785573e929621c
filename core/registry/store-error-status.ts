import { ApiError, type StatusReason } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { isStoreError, type StoreErrorCode } from "../store/store-errors.ts";

/**
 * The registry is the only caller of the store that faces the API: here the store's errors
 * become Kubernetes `Status` answers, worded as Kubernetes words them.
 */

/** The Status reason of each store failure. */
const REASONS: Record<StoreErrorCode, StatusReason> = {
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  Conflict: "Conflict",
  PreconditionFailed: "Conflict",
  Expired: "Expired",
  InvalidObject: "Invalid",
  InvalidRevision: "BadRequest",
  Closed: "ServiceUnavailable",
  Unavailable: "ServiceUnavailable",
  Internal: "InternalError",
};

/** `deployments.apps` → resource "deployments", group "apps" (the words ApiError wants). */
function splitKey(key: string): { plural: string; group: string } {
  const dot = key.indexOf(".");
  return dot < 0 ? { plural: key, group: "" } : { plural: key.slice(0, dot), group: key.slice(dot + 1) };
}

/** A StoreError as the API answers it; anything else unchanged. */
export function fromStoreError(e: unknown): unknown {
  if (!isStoreError(e)) return e;
  if (!e.object) return new ApiError(REASONS[e.code], e.message);
  const { plural, group } = splitKey(e.object.key);
  const name = e.object.name;
  switch (e.code) {
    case "NotFound":
      return ApiError.notFound(plural, name, group);
    case "AlreadyExists":
      return ApiError.alreadyExists(plural, name, group);
    case "Conflict":
      return ApiError.conflict(plural, name, group);
    default:
      return new ApiError(REASONS[e.code], e.message, { name, group, kind: plural });
  }
}

async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fromStoreError(e);
  }
}

/** The store whose failures arrive as ApiErrors, so every registry path answers as the API does. */
export function withApiErrors(store: Store): Store {
  return {
    create: (resource, obj) => mapped(() => store.create(resource, obj)),
    get: (resource, namespace, name) => mapped(() => store.get(resource, namespace, name)),
    list: (resource, namespace, at) => mapped(() => store.list(resource, namespace, at)),
    ...(store.listJson
      ? {
          listJson: (resource: string, namespace?: string) => {
            try {
              return store.listJson!(resource, namespace);
            } catch (e) {
              throw fromStoreError(e);
            }
          },
        }
      : {}),
    update: (resource, obj) => mapped(() => store.update(resource, obj)),
    delete: (resource, namespace, name, preconditions) =>
      mapped(() => store.delete(resource, namespace, name, preconditions)),
    watch: (filter, onEvent) => mapped(() => store.watch(filter, onEvent)),
    currentResourceVersion: () => mapped(() => store.currentResourceVersion()),
    compact: () => mapped(() => store.compact()),
    close: () => mapped(() => store.close()),
  };
}
