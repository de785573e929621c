/**
 * Kills first, clean-up after. When many pods stop at once (a Deployment of 50 deleted), every
 * container's SIGKILL timer comes due within a few tens of ms; the clean-up of the first pods to
 * die (a `crun delete` and an `ip` process each, unmounts, cgroup rmdirs) used to run on the event
 * loop right then, firing the other pods' SIGKILLs and reaping their exits up to ≈180 ms late.
 * The crun runtime tells this schedule when each container's SIGKILL is due and when it is done
 * (exited, or given up on); a clean-up first waits for `quiet()`: no SIGKILL due within the
 * horizon and none awaiting its exit. The wait is bounded, so a steady stream of stopping pods
 * delays clean-ups, never starves them; and it is driven by those events, never by a poll.
 */
export interface KillSchedule {
  /** The container's SIGKILL is due `inMs` from now (0: sent, waiting for the exit). */
  due(id: string, inMs: number): void;
  /** The container exited (or its stop ended otherwise): nothing more is due for it. */
  done(id: string): void;
  /** Resolves once no SIGKILL is due within the horizon nor awaits its exit, or after `maxWaitMs`. */
  quiet(): Promise<void>;
}

export interface KillScheduleOptions {
  /** A clean-up waits for a kill due this soon (default 250 ms: above the spread of a burst's SIGTERMs). */
  horizonMs?: number;
  /** …but never longer than this (default 1000 ms). */
  maxWaitMs?: number;
  now?: () => number;
}

export function createKillSchedule(options: KillScheduleOptions = {}): KillSchedule {
  const horizon = options.horizonMs ?? 250;
  const maxWait = options.maxWaitMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  /** When each container's SIGKILL is (or was) due. */
  const deadlines = new Map<string, number>();
  const waiters = new Set<() => void>();

  const busy = () => {
    const soon = now() + horizon;
    for (const at of deadlines.values()) if (at <= soon) return true;
    return false;
  };

  /** Only a `done` can end the busy state (time passing brings deadlines nearer, never further). */
  function wakeIfQuiet(): void {
    if (!waiters.size || busy()) return;
    for (const w of [...waiters]) w();
  }

  return {
    due(id, inMs) {
      deadlines.set(id, now() + Math.max(0, inMs));
    },
    done(id) {
      if (deadlines.delete(id)) wakeIfQuiet();
    },
    quiet() {
      if (!busy()) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, maxWait);
        waiters.add(finish);
      });
    },
  };
}
