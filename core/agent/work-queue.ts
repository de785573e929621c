import type { Clock } from "./clock.ts";

/**
 * Keys waiting to be reconciled. A key is never handled twice at once: adding a key that is
 * being handled marks it dirty and it runs once more afterwards. Different keys run
 * concurrently (one slow image pull must not hold up other pods). `addAfter` keeps the earliest
 * pending deadline per key.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  /** Resolves once nothing is running or queued (timers excluded). */
  idle(): Promise<void>;
  stop(): void;
}

export function createWorkQueue(
  handler: (key: string) => Promise<void>,
  clock: Clock,
  onError: (key: string, error: unknown) => number | undefined,
): WorkQueue {
  const running = new Set<string>();
  const dirty = new Set<string>();
  const delayed = new Map<string, { at: number; handle: unknown }>();
  let idleWaiters: (() => void)[] = [];
  let stopped = false;

  function settle(): void {
    if (running.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  function run(key: string): void {
    running.add(key);
    void (async () => {
      try {
        await handler(key);
      } catch (e) {
        const retryMs = onError(key, e);
        if (retryMs !== undefined) queue.addAfter(key, retryMs);
      } finally {
        running.delete(key);
        if (dirty.delete(key) && !stopped) run(key);
        settle();
      }
    })();
  }

  const queue: WorkQueue = {
    add(key) {
      if (stopped) return;
      if (running.has(key)) dirty.add(key);
      else run(key);
    },
    addAfter(key, ms) {
      if (stopped) return;
      if (ms <= 0) return queue.add(key);
      const at = clock.now() + ms;
      const pending = delayed.get(key);
      if (pending && pending.at <= at) return;
      if (pending) clock.clearTimeout(pending.handle);
      const handle = clock.setTimeout(() => {
        delayed.delete(key);
        queue.add(key);
      }, ms);
      delayed.set(key, { at, handle });
    },
    idle() {
      if (running.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stop() {
      stopped = true;
      for (const d of delayed.values()) clock.clearTimeout(d.handle);
      delayed.clear();
      dirty.clear();
    },
  };
  return queue;
}
