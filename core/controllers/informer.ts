import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";

/**
 * A shared in-memory cache of one resource, kept current by list + watch (a relist when the
 * watch's revision was compacted away: 410 Expired). Reconciles read from it instead of the
 * store. Controllers record their own writes with `observe` so a reconcile that runs before the
 * watch event arrives never acts twice on the same state (what client-go does with
 * "expectations").
 */
export interface InformerEvent<T extends KubeObject = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: T;
  /** The cached object before a MODIFIED event. */
  old?: T;
}

export interface Informer<T extends KubeObject = KubeObject> {
  readonly resource: string;
  get(namespace: string, name: string): T | undefined;
  /** namespace undefined = all namespaces. */
  list(namespace?: string): T[];
  /** Handlers run synchronously for every change; they should only enqueue keys. */
  onEvent(handler: (event: InformerEvent<T>) => void): void;
  /** Records the result of a write made by this process. */
  observe(obj: T): void;
  /** Records a deletion made by this process (the object may linger with finalizers). */
  observeDeleted(obj: T): void;
}

export interface Informers {
  /** The shared informer of a resource (created on first use, started by `start`). */
  for<T extends KubeObject = KubeObject>(resource: string): Informer<T>;
  /** Lists and starts watching every informer asked for so far; resolves once all are filled. */
  start(): Promise<void>;
  stop(): void;
}

export function createInformers(client: Client, { onError = defaultOnError } = {}): Informers {
  const informers = new Map<string, ReturnType<typeof createInformer>>();
  let started = false;
  return {
    for<T extends KubeObject>(resource: string): Informer<T> {
      let informer = informers.get(resource);
      if (!informer) {
        informer = createInformer(client, resource, onError);
        informers.set(resource, informer);
        if (started) void informer.run();
      }
      return informer as unknown as Informer<T>;
    },
    async start() {
      started = true;
      await Promise.all([...informers.values()].map((i) => i.run()));
    },
    stop() {
      for (const informer of informers.values()) informer.stop();
    },
  };
}

function defaultOnError(resource: string, error: unknown): void {
  console.error(`informer ${resource}: ${error instanceof Error ? error.message : error}`);
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

function rv(obj: KubeObject | undefined): number {
  return Number(obj?.metadata.resourceVersion ?? 0) || 0;
}

function createInformer(client: Client, resource: string, onError: (r: string, e: unknown) => void) {
  const cache = new Map<string, KubeObject>();
  // Recently deleted names with the revision, so a late write result does not resurrect them.
  const tombstones = new Map<string, number>();
  function tombstone(key: string, revision: number): void {
    tombstones.delete(key);
    tombstones.set(key, revision);
    if (tombstones.size > 10_000) tombstones.delete(tombstones.keys().next().value!);
  }
  const handlers: ((event: InformerEvent) => void)[] = [];
  let stopWatch: (() => void) | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  function emit(event: InformerEvent): void {
    for (const handler of handlers) {
      try {
        handler(event);
      } catch (e) {
        onError(resource, e);
      }
    }
  }

  function apply(type: InformerEvent["type"], obj: KubeObject): void {
    const key = keyOf(obj);
    const old = cache.get(key);
    if (type === "DELETED") {
      // Remember the deletion: the result of our own write may arrive after the watch event.
      tombstone(key, Math.max(rv(obj), rv(old)));
      if (!old) return;
      cache.delete(key);
      emit({ type, object: obj });
      return;
    }
    const tomb = tombstones.get(key);
    if (tomb !== undefined) {
      if (rv(obj) <= tomb) return;
      tombstones.delete(key);
    }
    if (old && rv(old) >= rv(obj)) return;
    if (old && old.metadata.uid !== obj.metadata.uid) {
      // Deleted and created again while we were not watching (a relist): two events, not one.
      cache.delete(key);
      emit({ type: "DELETED", object: old });
      cache.set(key, obj);
      emit({ type: "ADDED", object: obj });
      return;
    }
    cache.set(key, obj);
    emit(old ? { type: "MODIFIED", object: obj, old } : { type: "ADDED", object: obj });
  }

  async function relist(): Promise<string> {
    const { items, resourceVersion } = await client.list(resource);
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(keyOf(item));
      apply("ADDED", item);
    }
    for (const [key, obj] of cache)
      if (!seen.has(key) && rv(obj) <= Number(resourceVersion)) apply("DELETED", obj);
    return resourceVersion;
  }

  async function watchFrom(resourceVersion: string): Promise<void> {
    let restarting = false;
    const restart = () => {
      if (restarting || stopped) return;
      restarting = true;
      stopWatch?.();
      void loop();
    };
    stopWatch = await client.watch(resource, { resourceVersion }, (event) => {
      const type = event.type as string;
      if (type === "ERROR") return restart();
      apply(event.type, event.object);
    });
  }

  // List, then watch from the list's revision; on 410 (history compacted) list again.
  async function loop(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const resourceVersion = await relist();
        if (stopped) return;
        await watchFrom(resourceVersion);
        if (stopped) stopWatch?.();
        return;
      } catch (e) {
        if (!isApiError(e, "Expired") && !isApiError(e, "Gone")) onError(resource, e);
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 5000)));
      }
    }
  }

  return {
    resource,
    get(namespace: string, name: string) {
      return cache.get(`${namespace}/${name}`);
    },
    list(namespace?: string) {
      const items = [...cache.values()];
      return namespace === undefined
        ? items
        : items.filter((o) => (o.metadata.namespace ?? "") === namespace);
    },
    onEvent(handler: (event: InformerEvent) => void) {
      handlers.push(handler);
    },
    observe(obj: KubeObject) {
      apply("MODIFIED", obj);
    },
    observeDeleted(obj: KubeObject) {
      const key = keyOf(obj);
      // Graceful deletion or finalizers: the object stays, marked, until someone finishes it.
      if (obj.metadata.deletionTimestamp) return apply("MODIFIED", obj);
      const old = cache.get(key);
      if (old)
        apply("DELETED", {
          ...old,
          metadata: { ...old.metadata, resourceVersion: String(Math.max(rv(obj), rv(old))) },
        });
      else tombstone(key, rv(obj));
    },
    run() {
      running ??= loop();
      return running;
    },
    stop() {
      stopped = true;
      stopWatch?.();
    },
  };
}
