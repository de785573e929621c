/** Runs operations one at a time per key (a pod, a container): the agent may retry while one runs. */
export function createKeyedLock(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const locks = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const next = (locks.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => {});
    locks.set(key, tail);
    tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return next;
  };
}
