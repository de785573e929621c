import { Backoff } from "./backoff.ts";
import { type Clock, systemClock } from "./clock.ts";

/**
 * A queue of keys (never objects) like client-go's rate-limited work queue: a key waiting is
 * queued once however often it is added; a key being processed is never handed out a second
 * time, and a re-add during processing runs it again afterwards; `addAfter` keeps the earliest
 * pending deadline per key; failures back off exponentially per key until `forget`.
 * `processQueue` (queue-workers.ts) runs a handler over it.
 */
export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** Re-adds after this key's next backoff step (`baseDelayMs` doubling up to `maxDelayMs`). */
  addRateLimited(key: string): void;
  /** Clears the key's backoff after a successful reconcile. */
  forget(key: string): void;
  /** Resolves with the next key, or undefined once shut down. */
  get(): Promise<string | undefined>;
  /** Marks processing of a key finished; a key re-added meanwhile is queued again. */
  done(key: string): void;
  /** Keys queued or processing. */
  size(): number;
  /** Resolves once nothing is queued or processing (pending `addAfter` timers excluded). */
  idle(): Promise<void>;
  /** Drops queued keys and timers; `get` answers undefined from now on. */
  shutDown(): void;
}

export interface WorkQueueOptions {
  /** Drives `addAfter` and the rate limiter (default: the system clock). */
  clock?: Clock;
  /** First rate-limited delay (default 5 ms, as client-go). */
  baseDelayMs?: number;
  /** Longest rate-limited delay (default 10 s). */
  maxDelayMs?: number;
}

export function createWorkQueue(options: WorkQueueOptions = {}): WorkQueue {
  const clock = options.clock ?? systemClock;
  const failures = new Backoff(clock.now, {
    initialMs: options.baseDelayMs ?? 5,
    maxMs: options.maxDelayMs ?? 10_000,
    expires: false,
  });
  const queue: string[] = [];
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const timers = new Map<string, { at: number; handle: unknown }>();
  const getters: ((key: string | undefined) => void)[] = [];
  let idleWaiters: (() => void)[] = [];
  let shuttingDown = false;

  function settle(): void {
    if (queue.length > 0 || processing.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  function add(key: string): void {
    if (shuttingDown) return;
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    const getter = getters.shift();
    if (getter) {
      processing.add(key);
      getter(key);
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
    const at = clock.now() + delayMs;
    const pending = timers.get(key);
    // Keep the earliest wake-up: a later request is covered by the earlier reconcile.
    if (pending && pending.at <= at) return;
    if (pending) clock.clearTimeout(pending.handle);
    const handle = clock.setTimeout(() => {
      timers.delete(key);
      add(key);
    }, delayMs);
    timers.set(key, { at, handle });
  }

  return {
    add,
    addAfter,
    addRateLimited(key) {
      failures.next(key, clock.now());
      addAfter(key, failures.get(key));
    },
    forget(key) {
      failures.forget(key);
    },
    get() {
      if (shuttingDown) return Promise.resolve(undefined);
      const key = queue.shift();
      if (key !== undefined) {
        queued.delete(key);
        processing.add(key);
        return Promise.resolve(key);
      }
      return new Promise((resolve) => getters.push(resolve));
    },
    done(key) {
      processing.delete(key);
      if (dirty.delete(key)) add(key);
      settle();
    },
    size() {
      return queue.length + processing.size;
    },
    idle() {
      if (queue.length === 0 && processing.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    shutDown() {
      shuttingDown = true;
      for (const { handle } of timers.values()) clock.clearTimeout(handle);
      timers.clear();
      queue.length = 0;
      queued.clear();
      dirty.clear();
      for (const getter of getters.splice(0)) getter(undefined);
      settle();
    },
  };
}
