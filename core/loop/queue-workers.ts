import type { WorkQueue } from "./work-queue.ts";
import { yieldIfSpent } from "./yield-to-loop.ts";

/**
 * Runs `handle` on keys taken from `queue` until it shuts down, at most `concurrency` keys at
 * once and never one key twice at once (the queue hands out a key being processed only after
 * `done`). The controllers run a couple of workers each; the node agent passes `Infinity`, so
 * every pod syncs independently and one slow image pull never holds up another pod.
 *
 * `handle` deals with its own failures (requeue, log) and never rejects. The returned promise
 * resolves once the queue is shut down and the last running handler finished.
 */
export async function processQueue(
  queue: WorkQueue,
  concurrency: number,
  handle: (key: string) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  for (;;) {
    // a store that answers synchronously never leaves the microtask queue: give the API a turn
    await yieldIfSpent();
    while (running.size >= concurrency) await Promise.race(running);
    const key = await queue.get();
    if (key === undefined) break;
    const run = handle(key).finally(() => {
      running.delete(run);
      queue.done(key);
    });
    running.add(run);
  }
  await Promise.all(running);
}
