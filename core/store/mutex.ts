/**
 * A FIFO async lock. The store takes it around every write so that revision order equals commit
 * order, and around watch registration so a replay and the live stream meet without a gap.
 */
export interface Mutex {
  run<T>(fn: () => Promise<T> | T): Promise<T>;
}

export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: () => Promise<T> | T): Promise<T> {
      const result = tail.then(fn);
      // The next holder waits for this one to settle, whether it failed or not.
      tail = result.then(
        () => undefined,
        () => undefined,
      );
      return result;
    },
  };
}
