import type { KubeObject, WatchEvent } from "../object.ts";
import type { PageKey } from "./list-page.ts";

/**
 * The state store: current objects plus a bounded change log, written in one transaction.
 * It knows nothing of Kubernetes semantics beyond names, namespaces and resourceVersions:
 * defaults, validation, uids and generations belong to the registry above it.
 *
 * `resource` is the key from `resourceKey()` in core/resources.ts (`pods`, `deployments.apps`).
 * Cluster-scoped objects use namespace "".
 * Every write gets the next value of one global, monotonically increasing revision, which is
 * written into `metadata.resourceVersion` (as a decimal string) of the object returned.
 * Failures are StoreErrors (store-errors.ts); the registry words them for the API.
 */
/** Which state a list reads: the current one unless `resourceVersion` is given. */
export interface ListAt {
  resourceVersion?: string;
  keep?: boolean;
  /** Only the items after this key (namespace "" for cluster-scoped kinds)… */
  after?: PageKey;
  /** …and at most this many; `remaining` then says how many follow them. */
  limit?: number;
}

export interface Listed {
  items: KubeObject[];
  resourceVersion: string;
  /** Items after the returned ones (told when `after` or `limit` was given). */
  remaining?: number;
}

/** A list as the stored JSON texts of its items (see Store.listJson). */
export interface StoredList {
  items: readonly string[];
  resourceVersion: string;
}

export interface Store {
  /** AlreadyExists when the name is taken. */
  create(resource: string, obj: KubeObject): Promise<KubeObject>;
  get(resource: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  /**
   * namespace undefined = all namespaces. Items sorted by namespace, then name.
   * `at.resourceVersion`: the objects as they were at that revision (the later pages of a paged
   * list); Expired when the store no longer holds that state (compacted, or not kept), then the
   * client lists again. `at.keep`: the caller will come back for this revision (a first page).
   */
  list(resource: string, namespace?: string, at?: ListAt): Promise<Listed>;
  /**
   * The current list as the stored JSON texts, same order as `list`, for a store that keeps them
   * (the SQL store's object cache): an API answer in JSON then needs no parse and no re-encode.
   */
  listJson?(resource: string, namespace?: string): StoredList;
  /**
   * Replaces the stored object. When `obj.metadata.resourceVersion` is set and differs from the
   * stored one: Conflict. NotFound when absent.
   */
  update(resource: string, obj: KubeObject): Promise<KubeObject>;
  /** Removes the object; the DELETED event carries it with a new resourceVersion. */
  delete(
    resource: string,
    namespace: string,
    name: string,
    preconditions?: { resourceVersion?: string; uid?: string },
  ): Promise<KubeObject>;
  /**
   * Streams changes after `sinceResourceVersion` (exclusive; undefined = from now on; "0" is
   * taken literally: everything still in the log, so Expired once anything was compacted — the
   * Kubernetes "0 = any" meaning belongs to the layer above, via list + watch from its revision).
   * Throws StoreError "Expired" when that revision was compacted away or is newer than the
   * store's (a reset store), "InvalidRevision" when it is not a decimal number. Events arrive in
   * revision order, each once, without gaps; the promise
   * resolves once the replay of older changes has been delivered.
   * `onEvent` runs synchronously right after each commit, inside the writer's critical section:
   * keep it quick (enqueue, don't await). Returns a function that stops the watch.
   * A MODIFIED event carries `prevObject`, the object before that change (kube-apiserver's watch
   * cache keeps it too): a selector watch tells from it that an object started or stopped matching.
   */
  watch(
    filter: { resource?: string; namespace?: string; sinceResourceVersion?: string },
    onEvent: (event: WatchEvent & { resource: string; prevObject?: KubeObject }) => void,
  ): Promise<() => void>;
  /** The newest revision written. */
  currentResourceVersion(): Promise<string>;
  /** Trims the change log to its bound; returns how many entries went. */
  compact(): Promise<number>;
  close(): Promise<void>;
}
