import type { EtcdClient, EtcdEvent } from "./etcd-client.ts";

/**
 * One etcd watch per API server, fanned out to every store watcher, with the newest `limit`
 * revisions kept in memory — kube-apiserver's watch cache. A single stream means every watcher
 * sees each revision at the same moment and in the same order; the cache means a watch resumed
 * from a recent resourceVersion replays from memory at once, and one older than the cache is
 * "too old" (410 Gone), so the client lists again, as with kube-apiserver.
 *
 * The stream covers every key (not only this cluster's prefix) so that each revision shows up:
 * that is how the cache knows it has seen everything up to a revision.
 */
export interface CachedEvent {
  revision: number;
  event: EtcdEvent;
}

export interface WatchCache {
  /** The oldest revision a watch can start from. */
  oldest(): number;
  /** The newest revision the stream has delivered. */
  newest(): number;
  /**
   * Delivers every cached event from `start` (inclusive) at once, then every new one as it comes.
   * Returns the unsubscribe function. The caller checks `start >= oldest()` first.
   */
  subscribe(start: number, deliver: (e: CachedEvent) => void): () => void;
  /** Forgets events older than `revision` (after an etcd compaction). */
  trim(revision: number): void;
  close(): void;
}

/** How long a broken stream waits before it resumes (a member went away). */
const RESUME_MS = 250;

export async function createWatchCache(etcd: EtcdClient, limit: number): Promise<WatchCache> {
  const now = (await etcd.range("\0", { limit: 1 })).revision;
  const events: CachedEvent[] = [];
  const subscribers = new Set<{ next: number; deliver: (e: CachedEvent) => void }>();
  let oldest = Math.max(1, now - limit + 1);
  let newest = oldest - 1;
  let cancel: () => void = () => {};
  let closed = false;

  const accept = (batch: EtcdEvent[]) => {
    for (const event of batch) {
      const revision = event.kv.modRevision;
      if (revision <= newest) continue;
      newest = revision;
      const cached = { revision, event };
      events.push(cached);
      for (const s of subscribers) {
        if (revision < s.next) continue;
        s.next = revision + 1;
        s.deliver(cached);
      }
    }
    trim(newest - limit + 1);
  };

  function trim(revision: number) {
    if (revision <= oldest) return;
    oldest = revision;
    let drop = 0;
    while (drop < events.length && events[drop]!.revision < revision) drop++;
    if (drop) events.splice(0, drop);
  }

  /** Opens the stream from the revision after the newest seen; a compacted start moves up to etcd's. */
  async function open(): Promise<void> {
    if (closed) return;
    try {
      cancel = await etcd.watch("", newest + 1, accept, (error) => {
        if (closed || !error) return;
        const compacted = (error as { compactRevision?: number }).compactRevision;
        if (compacted !== undefined) {
          // History below etcd's compaction is gone: the cache goes on from there.
          newest = Math.max(newest, compacted - 1);
          trim(compacted);
          void open();
        } else setTimeout(() => void open(), RESUME_MS);
      });
    } catch {
      setTimeout(() => void open(), RESUME_MS);
    }
  }

  // The stream must have caught up with `now` before watches are served from the cache.
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`etcd watch did not reach revision ${now} in 30 s`)),
      30_000,
    );
    const ready = { next: 0, deliver: () => {} };
    const check = () => {
      // Revision 1 is etcd's empty start: no event will ever carry it.
      if (newest >= now || now <= 1 || oldest > now) {
        clearTimeout(deadline);
        subscribers.delete(ready);
        resolve();
        return true;
      }
      return false;
    };
    ready.deliver = () => void check();
    subscribers.add(ready);
    open().then(check, reject);
  });

  return {
    oldest: () => oldest,
    newest: () => newest,
    subscribe(start, deliver) {
      const sub = { next: start, deliver };
      for (const e of events) {
        if (e.revision < sub.next) continue;
        sub.next = e.revision + 1;
        deliver(e);
      }
      subscribers.add(sub);
      return () => subscribers.delete(sub);
    },
    trim,
    close() {
      closed = true;
      cancel();
      subscribers.clear();
    },
  };
}
