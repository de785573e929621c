import type { Binding } from "kubernetes-types/core/v1";
import { ApiError, isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type {
  Client,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchType,
  WriteOptions,
} from "../seams/client.ts";
import type { Store, StoredList } from "../store/store.ts";
import type { AdmissionHook, DeletedListener } from "./admission.ts";
import { applyObject } from "./apply.ts";
import { bindPod } from "./binding.ts";
import { kindOf, normalizeTypeMeta, notFound, type RegistryContext, resolveKind } from "./context.ts";
import { deleteObject } from "./deletion.ts";
import { evictPod } from "./eviction.ts";
import { limitRanger } from "./limit-ranger.ts";
import { isPaged, listPage } from "./paging.ts";
import { type PatchOptions, patchObject } from "./patching.ts";
import { bootstrapPriorityClasses, priorityAdmission } from "./priority-admission.ts";
import { quotaAdmission } from "./quota-admission.ts";
import { checkScalable, replicasOf, toScaleOf, withReplicasOf } from "./scale.ts";
import { withApiErrors } from "./store-error-status.ts";
import { objectFilter, watchObjects } from "./watch.ts";
import { createObject, retryUnlessPinned, scopeOf, updateObject, updateStatusOf } from "./writes.ts";

export interface RegistryOptions {
  /** Admission hooks run in order before every write (see admission.ts). */
  admit?: AdmissionHook[];
  /** Told after an object has actually been removed. */
  onDeleted?: DeletedListener[];
  /** Warnings for calls that pass no `onWarning` of their own. */
  onWarning?: (message: string) => void;
  /** Clock, for tests. */
  now?: () => Date;
}

/** The Client plus what only the API server and start-up need. */
export interface Registry extends Client {
  /** Creates the namespaces every cluster has (default, kube-system, kube-public, kube-node-lease). */
  bootstrap(): Promise<void>;
  /** GET …/scale of deployments.apps / replicasets.apps: an autoscaling/v1 Scale. */
  getScale(resource: string, namespace: string, name: string): Promise<KubeObject>;
  /** PUT …/scale: sets spec.replicas; a resourceVersion in the Scale is a precondition. */
  updateScale(
    resource: string,
    namespace: string,
    name: string,
    scale: KubeObject,
    options?: WriteOptions,
  ): Promise<KubeObject>;
  /** POST pods/…/eviction: deletes the pod unless a PodDisruptionBudget forbids it (429). */
  evict(namespace: string, name: string, deleteOptions?: DeleteOptions): Promise<KubeObject>;
  /**
   * A whole list as the stored JSON texts, for an API answer in JSON: nothing parsed and encoded
   * again (10,000 ConfigMaps listed in a third of the time). Undefined when the list is filtered
   * (selectors) or paged, or the store keeps no JSON: then `list` answers.
   */
  listJson(resource: string, opts?: ListOptions): Promise<StoredList | undefined>;
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/**
 * The one place where Kubernetes object semantics live: metadata, defaults, validation,
 * generation, optimistic concurrency, graceful deletion and finalizers, selectors and watch.
 * API handlers, controllers and the node agent all write through it.
 */
export function createRegistry(storage: Store, options: RegistryOptions = {}): Registry {
  // every store call below answers with ApiErrors, as the API does
  const store = withApiErrors(storage);
  const ctx: RegistryContext = {
    store,
    // Upstream's default plugins: the mutating ones first, ResourceQuota last.
    admit: [priorityAdmission(store), limitRanger(store), ...(options.admit ?? []), quotaAdmission(store)],
    onDeleted: options.onDeleted ?? [],
    onWarning: options.onWarning,
    now: options.now ?? (() => new Date()),
    maxRetries: 64,
    customKinds: new Map(),
  };

  const resolve = (resource: string) => resolveKind(ctx, resource);
  const registry: Registry = {
    async get<T extends KubeObject>(resource: string, namespace: string, name: string) {
      const obj = await registry.tryGet<T>(resource, namespace, name);
      if (!obj) throw notFound(await resolve(resource), name);
      return obj;
    },

    async tryGet<T extends KubeObject>(resource: string, namespace: string, name: string) {
      const kind = await resolve(resource);
      return (await store.get(kind.key, scopeOf(kind, namespace), name)) as T | undefined;
    },

    async list<T extends KubeObject>(resource: string, opts: ListOptions = {}) {
      const kind = await resolve(resource);
      const namespace = kind.info.namespaced && opts.namespace ? opts.namespace : undefined;
      const { filter, name } = objectFilter(kind.key, opts);
      if (name !== undefined && (namespace || !kind.info.namespaced)) {
        // One object by name (kubectl wait/rollout status/delete --wait): a point read, with the
        // revision taken first so a watch from it cannot miss a change to that object.
        const resourceVersion = await store.currentResourceVersion();
        const obj = await store.get(kind.key, namespace ?? "", name);
        return { items: (obj && filter!(obj) ? [obj] : []) as T[], resourceVersion };
      }
      if (isPaged(opts)) return (await listPage(store, kind.key, namespace, filter, opts)) as ListResult<T>;
      const { items, resourceVersion } = await store.list(kind.key, namespace);
      return { items: (filter ? items.filter(filter) : items) as T[], resourceVersion };
    },

    async listJson(resource: string, opts: ListOptions = {}) {
      if (!store.listJson || isPaged(opts) || opts.labelSelector || opts.fieldSelector) return undefined;
      const kind = await resolve(resource);
      return store.listJson(kind.key, kind.info.namespaced ? opts.namespace || undefined : undefined);
    },

    async create<T extends KubeObject>(resource: string, input: T, opts?: WriteOptions) {
      return (await createObject(ctx, await resolve(resource), input, opts)) as T;
    },

    async update<T extends KubeObject>(resource: string, input: T, opts?: WriteOptions) {
      const kind = await resolve(resource);
      const obj = structuredClone(input) as KubeObject;
      normalizeTypeMeta(ctx, kind, obj, opts);
      return (await retryUnlessPinned(ctx, kind, obj, async (old) => {
        return updateObject(ctx, kind, old, structuredClone(obj), opts);
      })) as T;
    },

    async updateStatus<T extends KubeObject>(resource: string, input: T, opts?: WriteOptions) {
      const kind = await resolve(resource);
      return (await retryUnlessPinned(ctx, kind, input, (old) => {
        return updateStatusOf(ctx, kind, old, structuredClone(input.status), opts);
      })) as T;
    },

    async patch<T extends KubeObject>(
      resource: string,
      namespace: string,
      name: string,
      type: PatchType,
      body: unknown,
      opts: PatchOptions = {},
    ) {
      const kind = await resolve(resource);
      const ns = scopeOf(kind, namespace);
      if (type === "apply") {
        if (opts.subresource)
          throw new ApiError("BadRequest", "server-side apply is supported on the main resource only");
        return (await applyObject(ctx, kind, ns, name, body, opts)) as T;
      }
      return (await patchObject(ctx, kind, ns, name, type, body, opts)) as T;
    },

    async getScale(resource, namespace, name) {
      const kind = await resolve(resource);
      checkScalable(kind);
      return toScaleOf(kind, await registry.get(resource, namespace, name));
    },

    async updateScale(resource, namespace, name, scale, opts) {
      const kind = await resolve(resource);
      checkScalable(kind);
      const replicas = replicasOf(scale);
      const target = {
        metadata: { name, namespace, resourceVersion: scale.metadata?.resourceVersion },
      } as KubeObject;
      const out = await retryUnlessPinned(ctx, kind, target, (old) =>
        updateObject(ctx, kind, old, withReplicasOf(kind, old, replicas), opts, "scale"),
      );
      return toScaleOf(kind, out);
    },

    async evict(namespace, name, deleteOptions) {
      return evictPod(ctx, namespace || "default", name, deleteOptions);
    },

    async bind<T extends KubeObject>(namespace: string, name: string, binding: Binding, opts?: WriteOptions) {
      return (await bindPod(ctx, namespace || "default", name, binding, opts)) as T;
    },

    async delete<T extends KubeObject>(
      resource: string,
      namespace: string,
      name: string,
      opts?: DeleteOptions,
    ) {
      const kind = await resolve(resource);
      return (await deleteObject(ctx, kind, scopeOf(kind, namespace), name, opts ?? {})) as T;
    },

    async watch(resource, opts, onEvent) {
      const kind = await resolve(resource);
      const namespace = kind.info.namespaced && opts.namespace ? opts.namespace : undefined;
      return watchObjects(store, kind.key, namespace, opts, onEvent);
    },

    async bootstrap() {
      await bootstrapPriorityClasses(ctx);
      for (const name of SYSTEM_NAMESPACES) {
        if (await store.get("namespaces", "", name)) continue;
        try {
          await createObject(ctx, kindOf("namespaces"), {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name },
          });
        } catch (e) {
          if (!isApiError(e, "AlreadyExists")) throw e;
        }
      }
    },
  };
  return registry;
}
