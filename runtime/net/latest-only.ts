/**
 * Serialises `work` (a whole-table `nft -f`) so that only the latest state matters: one run at a
 * time, and every request made while one runs is folded into a single run after it. Each caller's
 * promise settles when a run that started after its request has finished.
 */
export interface LatestOnly {
  run(): Promise<void>;
  /** Resolves when no run is in progress (before deleting what the runs write). */
  idle(): Promise<void>;
}

export function latestOnly(work: () => Promise<void>): LatestOnly {
  let running: Promise<void> | undefined;
  let pending: Promise<void> | undefined;
  const run = (): Promise<void> => {
    if (pending) return pending;
    if (!running) {
      running = work().finally(() => {
        running = undefined;
      });
      return running;
    }
    pending = running
      .catch(() => {})
      .then(() => {
        pending = undefined;
        return run();
      });
    return pending;
  };
  return { run, idle: async () => (await running?.catch(() => {})) ?? undefined };
}
