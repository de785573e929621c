import type { Clock } from "../clock.ts";

export interface ManualClock extends Clock {
  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void;
}

interface Timer {
  at: number;
  fn: () => void;
}

/** A clock that only moves when told to (tests). */
export function createManualClock(start = Date.parse("2026-01-01T00:00:00Z")): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, Timer>();

  /** The earliest timer due by `target`, if any. */
  function nextDue(target: number): [number, Timer] | undefined {
    let next: [number, Timer] | undefined;
    for (const entry of timers)
      if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
    return next;
  }

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const target = now + ms;
      // A timer may set another that also falls due before `target`: pick again after each one.
      for (let next = nextDue(target); next; next = nextDue(target)) {
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = target;
    },
  };
}
