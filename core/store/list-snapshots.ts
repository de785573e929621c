/**
 * The lists a paging client will come back for: the first page of `?limit=` remembers the JSON
 * of every object at that revision, so later pages (`?continue=`) read the same consistent state
 * as kube-apiserver's paged reads of etcd at one revision do. The JSON strings are the ones the
 * object cache already holds, so a snapshot costs one array of references. Bounded in count and
 * age: an evicted snapshot makes the next page 410 Expired, and the client lists again.
 */
export interface ListSnapshot {
  revision: number;
  items: readonly string[];
}

const MAX_SNAPSHOTS = 16;
/** Matches etcd's usual compaction interval, the lifetime of a continue token upstream. */
const MAX_AGE_MS = 5 * 60_000;

export class ListSnapshots {
  readonly #byKey = new Map<string, { taken: number; snapshot: ListSnapshot }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  keep(resource: string, namespace: string | undefined, snapshot: ListSnapshot): void {
    const key = keyOf(resource, namespace, snapshot.revision);
    this.#byKey.delete(key);
    this.#byKey.set(key, { taken: this.#now(), snapshot });
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.#byKey.size > MAX_SNAPSHOTS) this.#byKey.delete(this.#byKey.keys().next().value!);
  }

  find(resource: string, namespace: string | undefined, revision: number): ListSnapshot | undefined {
    const key = keyOf(resource, namespace, revision);
    const hit = this.#byKey.get(key);
    if (!hit) return undefined;
    if (this.#now() - hit.taken > MAX_AGE_MS) {
      this.#byKey.delete(key);
      return undefined;
    }
    return hit.snapshot;
  }

  clear(): void {
    this.#byKey.clear();
  }
}

function keyOf(resource: string, namespace: string | undefined, revision: number): string {
  return `${resource}\u0000${namespace ?? "\u0001all"}\u0000${revision}`;
}
