/**
 * Giving the event loop a turn from long chains of work. A store whose writes complete
 * synchronously (libsql on a local file) resolves every await as a microtask, so controllers
 * working through thousands of keys would otherwise never let the API server answer.
 *
 * Module state on purpose: it describes the one event loop. All workers that yield wait for the
 * same next turn, and the time since that turn is shared, so together (not each on its own) they
 * hold the loop for at most one slice before it serves I/O again.
 */
let lastTurn = performance.now();
let nextTurn: Promise<void> | undefined;

/** Resolves on the next turn of the event loop, after pending I/O. */
export function yieldToLoop(): Promise<void> {
  const schedule: (cb: () => void) => unknown = globalThis.setImmediate ?? ((cb) => setTimeout(cb, 0));
  nextTurn ??= new Promise((resolve) => {
    schedule(() => {
      nextTurn = undefined;
      lastTurn = performance.now();
      resolve();
    });
  });
  return nextTurn;
}

/** Yields once `sliceMs` of work have passed since the loop's last turn. */
export async function yieldIfSpent(sliceMs = 5): Promise<void> {
  if (performance.now() - lastTurn < sliceMs) return;
  await yieldToLoop();
}
