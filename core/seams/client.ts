import type { Binding } from "kubernetes-types/core/v1";
import type { KubeObject, WatchEvent } from "../object.ts";

/**
 * What controllers, the node agent and the API handlers use to read and change objects. The
 * in-process implementation (the registry) applies the same defaulting, validation, metadata and
 * deletion rules for every caller, so a controller's write is exactly what a kubectl write would be.
 *
 * `resource` is the store key (`pods`, `deployments.apps`); see core/resources.ts.
 */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (`?limit=`); a `continue` token comes back while more is left. */
  limit?: number;
  /** The token of the previous page. */
  continue?: string;
  /** "0": any state (the whole list, limit ignored, as upstream's watch cache answers). */
  resourceVersion?: string;
}

/** One list (or page): the items and the revision they are the state at. */
export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
  /** Items left after this page, when no selector makes the count unknown. */
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { resourceVersion?: string; uid?: string };
  dryRun?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Strict | Warn | Ignore; warnings come back through `onWarning`. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  onWarning?: (message: string) => void;
}

export type PatchType = "strategic" | "merge" | "json" | "apply";

export interface Client {
  get<T extends KubeObject = KubeObject>(resource: string, namespace: string, name: string): Promise<T>;
  /** Like get, but undefined instead of NotFound. */
  tryGet<T extends KubeObject = KubeObject>(
    resource: string,
    namespace: string,
    name: string,
  ): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(resource: string, options?: ListOptions): Promise<ListResult<T>>;
  create<T extends KubeObject = KubeObject>(resource: string, obj: T, options?: WriteOptions): Promise<T>;
  /** Full replace of spec and metadata; status is kept as stored. Conflict on a stale resourceVersion. */
  update<T extends KubeObject = KubeObject>(resource: string, obj: T, options?: WriteOptions): Promise<T>;
  /** Replaces status only (the /status subresource). */
  updateStatus<T extends KubeObject = KubeObject>(
    resource: string,
    obj: T,
    options?: WriteOptions,
  ): Promise<T>;
  patch<T extends KubeObject = KubeObject>(
    resource: string,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    options?: WriteOptions & { subresource?: "status" | "scale"; force?: boolean },
  ): Promise<T>;
  /** Returns the object as it stands after the call (with deletionTimestamp when deletion is graceful). */
  delete<T extends KubeObject = KubeObject>(
    resource: string,
    namespace: string,
    name: string,
    options?: DeleteOptions,
  ): Promise<T>;
  /**
   * POST pods/<name>/binding: spec.nodeName and PodScheduled=True in one write, as kube-scheduler
   * binds; Conflict when the pod is already on a node or being deleted. Returns the bound pod.
   */
  bind<T extends KubeObject = KubeObject>(
    namespace: string,
    name: string,
    binding: Binding,
    options?: WriteOptions,
  ): Promise<T>;
  watch(
    resource: string,
    options: ListOptions & { resourceVersion?: string },
    onEvent: (event: WatchEvent) => void,
  ): Promise<() => void>;
}
