/**
 * Giving the event loop a turn from long chains of work. A store whose writes complete
 * synchronously (libsql on a local file) resolves every await as a microtask, so controllers
 * working through thousands of keys would otherwise never let the API server answer.
 *
 * Module state on purpose: it describes the one event loop. All workers that yield wait for the
 * same next turn, and the time since the current slice began is shared, so together (not each
 * on its own) they hold the loop for at most one slice before it serves I/O again.
 */
const schedule: (cb: () => void) => unknown = globalThis.setImmediate ?? ((cb) => setTimeout(cb, 0));

/** When the first check since the loop's last turn ran; undefined once the loop has turned. */
let sliceStart: number | undefined;
let nextTurn: Promise<void> | undefined;

/** Resolves on the next turn of the event loop, after pending I/O. */
export function yieldToLoop(): Promise<void> {
  nextTurn ??= new Promise((resolve) => {
    schedule(() => {
      nextTurn = undefined;
      sliceStart = undefined;
      resolve();
    });
  });
  return nextTurn;
}

/**
 * Yields once `sliceMs` of work have passed in the current turn of the loop. The slice starts at
 * the first check after the loop turned (not at the last yield): work that follows an idle
 * moment, such as a ReplicaSet's second pod, goes on at once instead of queueing behind every
 * other ready task.
 */
export async function yieldIfSpent(sliceMs = 5): Promise<void> {
  const now = performance.now();
  if (sliceStart === undefined) {
    sliceStart = now;
    // the loop's next turn ends this slice
    schedule(() => {
      sliceStart = undefined;
    });
    return;
  }
  if (now - sliceStart < sliceMs) return;
  await yieldToLoop();
}
