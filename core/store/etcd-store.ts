import type { KubeObject, WatchEvent } from "../object.ts";
import { createEtcdClient, type EtcdEvent, type EtcdKv } from "./etcd-client.ts";
import { createWatchCache } from "./etcd-watch-cache.ts";
import { compareKeys, pageBounds } from "./list-page.ts";
import type { Store } from "./store.ts";
import { checkPreconditions, identify, parseRevision, StoreError, storeErrors } from "./store-errors.ts";

/**
 * The Store on etcd, the way kube-apiserver keeps objects there: one key per object
 * (`<prefix>/<resource>/<namespace>/<name>`), the object's resourceVersion is the etcd revision
 * that last wrote it, optimistic concurrency is an etcd transaction comparing that revision, and a
 * watch is an etcd watch from a revision (410 Gone below the compacted one). Several minik API
 * servers can share one etcd cluster: etcd orders every write, so there is nothing to replicate.
 */
export interface EtcdStoreOptions {
  /** Client URLs of the cluster's members, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** Key prefix of this cluster's objects (default `/registry`). */
  prefix?: string;
  /** Newest revisions kept for watch resume when compact() runs (default 10,000). */
  changeLogLimit?: number;
  /** How often the history is compacted in the background (default 5 min; 0 = never). */
  compactIntervalMs?: number;
  fetch?: typeof fetch;
}

/** No member reachable is an outage (503, retry later), not a refused request. */
function failureCode(e: unknown): "Unavailable" | "Internal" {
  return /^no etcd member answered/.test((e as Error).message ?? "") ? "Unavailable" : "Internal";
}

/** Retries of an unconditional update/delete that lost a race to another writer. */
const MAX_RETRIES = 16;

export async function createEtcdStore(options: EtcdStoreOptions): Promise<Store> {
  const etcd = createEtcdClient({ endpoints: options.endpoints, fetch: options.fetch });
  const prefix = (options.prefix ?? "/registry").replace(/\/$/, "");
  const limit = options.changeLogLimit ?? 10_000;
  const keyOf = (resource: string, namespace: string, name: string) =>
    `${prefix}/${resource}/${namespace}/${name}`;
  let compactedTo = 0;
  let closed = false;
  let pending = 0;
  let drained: (() => void) | undefined;

  const cache = await createWatchCache(etcd, limit).catch((e) => {
    throw new StoreError(failureCode(e), `etcd at ${options.endpoints.join(", ")}: ${(e as Error).message}`);
  });

  /** Every operation counts itself, so close() can let running writes finish. */
  async function op<T>(fn: () => Promise<T>): Promise<T> {
    if (closed) throw new StoreError("Closed", "the store is closed");
    pending++;
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError(failureCode(e), `etcd: ${(e as Error).message}`);
    } finally {
      if (--pending === 0) drained?.();
    }
  }

  const decode = (kv: EtcdKv, revision = kv.modRevision): KubeObject => {
    const obj = JSON.parse(kv.value) as KubeObject;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
  };
  const encode = (obj: KubeObject): string => {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    return JSON.stringify({ ...obj, metadata });
  };
  const withRevision = (obj: KubeObject, revision: number): KubeObject => {
    const copy = structuredClone(obj);
    return { ...copy, metadata: { ...copy.metadata, resourceVersion: String(revision) } };
  };

  /** The revision of the key when it holds exactly `value` written after `after` (our own write). */
  async function ownWrite(key: string, value: string, after = 0): Promise<number | undefined> {
    const kv = (await etcd.range(key)).kvs[0];
    return kv && kv.value === value && kv.modRevision > after ? kv.modRevision : undefined;
  }

  /** `<prefix>/pods/default/web` → the resource key, for watch events across resources. */
  const resourceOf = (key: string) => key.slice(prefix.length + 1).split("/")[0] ?? "";

  const store: Store = {
    create: (resource, obj) =>
      op(async () => {
        const { namespace, name } = identify(resource, obj);
        const key = keyOf(resource, namespace, name);
        const r = await etcd.txn(
          [{ key, target: "CREATE", createRevision: 0 }],
          [{ put: { key, value: encode(obj) } }],
        );
        if (!r.succeeded) throw storeErrors(resource, name).alreadyExists();
        return withRevision(obj, r.revision);
      }),

    get: (resource, namespace, name) =>
      op(async () => {
        const kv = (await etcd.range(keyOf(resource, namespace, name))).kvs[0];
        return kv ? decode(kv) : undefined;
      }),

    list: (resource, namespace, at = {}) =>
      op(async () => {
        // etcd keeps every revision until compaction: a paged list reads its first page's one.
        const revision = at.resourceVersion
          ? parseRevision(`a list of ${resource}`, at.resourceVersion)
          : undefined;
        const r = await etcd
          .range(namespace === undefined ? `${prefix}/${resource}/` : keyOf(resource, namespace, ""), {
            prefix: true,
            revision,
          })
          .catch((e: Error) => {
            if (revision !== undefined && /compacted|future rev/.test(e.message))
              throw new StoreError(
                "Expired",
                `resource version ${revision} is not held by etcd: ${e.message}`,
              );
            throw e;
          });
        // Key order puts "a-b/x" before "a/x"; the Store promises namespace, then name (code
        // units, as the SqlStore's: paging compares keys the same way). The key says both, so
        // only the page's values are decoded.
        const entries = r.kvs.map((kv) => {
          const [ns = "", ...name] = kv.key.slice(`${prefix}/${resource}/`.length).split("/");
          return { kv, key: { namespace: ns, name: name.join("/") } };
        });
        entries.sort((a, b) => compareKeys(a.key, b.key));
        const resourceVersion = String(revision ?? r.revision);
        if (!at.after && !at.limit) return { items: entries.map((e) => decode(e.kv)), resourceVersion };
        const { from, to } = pageBounds(entries.length, (i) => entries[i]!.key, at.after, at.limit);
        const items = entries.slice(from, to).map((e) => decode(e.kv));
        return { items, resourceVersion, remaining: entries.length - to };
      }),

    update: (resource, obj) =>
      op(async () => {
        const { namespace, name } = identify(resource, obj);
        const key = keyOf(resource, namespace, name);
        const err = storeErrors(resource, name);
        const wanted = obj.metadata.resourceVersion;
        if (wanted !== undefined && wanted !== "") parseRevision(`${resource} "${name}"`, wanted);
        for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
          const current = (await etcd.range(key)).kvs[0];
          if (!current) throw err.notFound();
          if (wanted && wanted !== String(current.modRevision)) throw err.conflict();
          const value = encode(obj);
          const r = await etcd.txn(
            [{ key, target: "MOD", modRevision: current.modRevision }],
            [{ put: { key, value } }],
          );
          if (r.succeeded) return withRevision(obj, r.revision);
          const mine = r.retried ? await ownWrite(key, value, current.modRevision) : undefined;
          if (mine) return withRevision(obj, mine);
          if (wanted) throw err.conflict();
        }
        throw err.conflict();
      }),

    delete: (resource, namespace, name, preconditions) =>
      op(async () => {
        const key = keyOf(resource, namespace, name);
        const err = storeErrors(resource, name);
        for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
          const current = (await etcd.range(key)).kvs[0];
          if (!current) throw err.notFound();
          const obj = decode(current);
          checkPreconditions(err, preconditions, obj, current.modRevision);
          const r = await etcd.txn(
            [{ key, target: "MOD", modRevision: current.modRevision }],
            [{ deleteRange: { key } }],
          );
          if (r.succeeded) return withRevision(obj, r.revision);
        }
        throw err.conflict();
      }),

    watch: (filter, onEvent) =>
      op(async () => {
        const what = `a watch of ${filter.resource ?? "everything"}`;
        const since = filter.sinceResourceVersion;
        const scope = filter.resource
          ? filter.namespace !== undefined
            ? keyOf(filter.resource, filter.namespace, "")
            : `${prefix}/${filter.resource}/`
          : `${prefix}/`;
        const subscribe = (start: number) =>
          cache.subscribe(start, ({ event }) => {
            if (!event.kv.key.startsWith(scope)) return;
            try {
              onEvent(toWatchEvent(event));
            } catch {
              // a consumer's failure is its own; the stream goes on for it and for others
            }
          });
        const rv = since === undefined ? undefined : parseRevision(what, since);
        // Within the cache: subscribe before anything awaits, so no write can slip past the replay.
        if (rv !== undefined && rv < cache.oldest() - 1)
          throw new StoreError("Expired", `too old resource version: ${rv} (${cache.oldest() - 1})`);
        if (rv !== undefined && rv <= cache.newest()) return subscribe(rv + 1);
        const now = (await etcd.range(`${prefix}/`, { limit: 1 })).revision;
        if (rv !== undefined && rv > now)
          throw new StoreError(
            "Expired",
            `${what}: resourceVersion ${rv} is newer than the store's (${now})`,
          );
        return subscribe((rv ?? now) + 1);
      }),

    currentResourceVersion: () =>
      op(async () => String((await etcd.range(`${prefix}/`, { limit: 1 })).revision)),

    compact: () =>
      op(async () => {
        const now = (await etcd.range(`${prefix}/`, { limit: 1 })).revision;
        const to = now - limit;
        if (to <= compactedTo) return 0;
        try {
          await etcd.compact(to);
        } catch (e) {
          // Another API server (or an earlier run) compacted further already: nothing to do.
          if (!/compacted/.test((e as Error).message)) throw e;
        }
        const done = to - compactedTo;
        compactedTo = to;
        return done;
      }),

    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      cache.close();
      if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
    },
  };

  /** An etcd event as the Store's watch event: the object at the revision of the change. */
  function toWatchEvent(e: EtcdEvent): WatchEvent & { resource: string; prevObject?: KubeObject } {
    const resource = resourceOf(e.kv.key);
    if (e.type === "DELETE")
      return { type: "DELETED", object: decode(e.prevKv ?? e.kv, e.kv.modRevision), resource };
    const added = e.kv.createRevision === e.kv.modRevision;
    return {
      type: added ? "ADDED" : "MODIFIED",
      object: decode(e.kv),
      resource,
      ...(!added && e.prevKv ? { prevObject: decode(e.prevKv) } : {}),
    };
  }

  const every = options.compactIntervalMs ?? 5 * 60_000;
  const timer = every > 0 ? setInterval(() => void store.compact().catch(() => {}), every) : undefined;
  (timer as { unref?: () => void } | undefined)?.unref?.();
  return store;
}
