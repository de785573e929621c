import { isApiError } from "../errors.ts";
import type { EventRecorder } from "../events.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { Clock } from "./clock.ts";
import type { Informers } from "./informer.ts";
import { createWorkQueue } from "./work-queue.ts";
import { yieldIfSpent } from "./yield-to-loop.ts";

/**
 * A level-triggered controller: keys go into a work queue (from informer events, resync or
 * requeues), workers take one key at a time and run `reconcile`, which re-reads the world and
 * makes it match. A failing key backs off; a 409 just runs again.
 */
/** What every controller is handed: only the client, shared caches, events and time. */
export interface ControllerContext {
  client: Client;
  informers: Informers;
  /** An event recorder for a component (`deployment-controller`, `default-scheduler`). */
  events(component: string): EventRecorder;
  clock: Clock;
  log(message: string): void;
}

export interface ReconcileResult {
  /** Run this key again after so many ms (time-based conditions: minReadySeconds, deadlines). */
  requeueAfterMs?: number;
}

// biome-ignore lint/suspicious/noConfusingVoidType: reconciles that never requeue just return.
export type Reconcile = (key: string) => Promise<ReconcileResult | undefined | void>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  /** Keys reconciled at once (never the same key twice). Default 2. */
  workers?: number;
  /** Every `everyMs`, enqueue all `keys()`: the safety net of level-triggered design. */
  resync?: { everyMs: number; keys: () => string[] };
  log?: (message: string) => void;
}

export interface Controller {
  readonly name: string;
  enqueue(key: string): void;
  enqueueAfter(key: string, delayMs: number): void;
  /** Runs one reconcile directly (tests use it to show a second run changes nothing). */
  reconcile: Reconcile;
  start(): void;
  stop(): Promise<void>;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? "");
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Errors that mean "the world moved under us": retry soon, not worth a log line. */
function isTransient(e: unknown): boolean {
  return isApiError(e, "Conflict") || isApiError(e, "NotFound") || isApiError(e, "AlreadyExists");
}

export function createController(options: ControllerOptions): Controller {
  const { name, reconcile, workers = 2, resync } = options;
  const log = options.log ?? ((m: string) => console.error(m));
  const queue = createWorkQueue();
  const running: Promise<void>[] = [];
  let resyncTimer: ReturnType<typeof setInterval> | undefined;

  async function worker(): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, Math.max(1, result.requeueAfterMs));
      } catch (e) {
        if (!isTransient(e)) log(`${name}: reconciling ${key}: ${e instanceof Error ? e.message : e}`);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
      // a store that answers synchronously never leaves the microtask queue: give the API a turn
      await yieldIfSpent();
    }
  }

  return {
    name,
    enqueue: (key) => queue.add(key),
    enqueueAfter: (key, delayMs) => queue.addAfter(key, delayMs),
    reconcile,
    start() {
      for (let i = 0; i < workers; i++) running.push(worker());
      if (resync) {
        resyncTimer = setInterval(() => {
          for (const key of resync.keys()) queue.add(key);
        }, resync.everyMs);
      }
    },
    async stop() {
      if (resyncTimer) clearInterval(resyncTimer);
      queue.shutDown();
      await Promise.all(running);
    },
  };
}
