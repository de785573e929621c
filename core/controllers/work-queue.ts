/**
 * A queue of keys (never objects) like client-go's rate-limited work queue: a key waiting is
 * queued once however often it is added; a key being processed is never handed to a second
 * worker, and a re-add during processing runs it again afterwards; failures back off
 * exponentially per key until `forget`.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Re-adds after this key's next backoff step (5 ms doubling up to `maxDelayMs`). */
  addRateLimited(key: string): void;
  /** Clears the key's backoff after a successful reconcile. */
  forget(key: string): void;
  /** Resolves with the next key, or undefined once shut down. */
  get(): Promise<string | undefined>;
  /** Marks processing of a key finished; a key re-added meanwhile is queued again. */
  done(key: string): void;
  /** Keys queued or processing. */
  size(): number;
  shutDown(): void;
}

export function createWorkQueue({ baseDelayMs = 5, maxDelayMs = 10_000 } = {}): WorkQueue {
  const queue: string[] = [];
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const waiters: ((key: string | undefined) => void)[] = [];
  let shuttingDown = false;

  function add(key: string): void {
    if (shuttingDown) return;
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    const waiter = waiters.shift();
    if (waiter) {
      processing.add(key);
      waiter(key);
      return;
    }
    queued.add(key);
    queue.push(key);
  }

  function addAfter(key: string, delayMs: number): void {
    if (shuttingDown) return;
    if (delayMs <= 0) {
      add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = timers.get(key);
    // Keep the earliest wake-up: a later request is covered by the earlier reconcile.
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
    }, delayMs);
    timers.set(key, { at, timer });
  }

  return {
    add,
    addAfter,
    addRateLimited(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      addAfter(key, Math.min(baseDelayMs * 2 ** n, maxDelayMs));
    },
    forget(key) {
      failures.delete(key);
    },
    get() {
      if (shuttingDown) return Promise.resolve(undefined);
      const key = queue.shift();
      if (key !== undefined) {
        queued.delete(key);
        processing.add(key);
        return Promise.resolve(key);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    done(key) {
      processing.delete(key);
      if (dirty.delete(key)) add(key);
    },
    size() {
      return queue.length + processing.size;
    },
    shutDown() {
      shuttingDown = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters.splice(0)) waiter(undefined);
    },
  };
}
