import { type Clock, systemClock } from "../clock.ts";

/**
 * Real timers, but `now` can jump ahead: minutes of a window or a toleration pass at once while
 * the loops keep running at their real pace (unlike a manual clock, nothing has to be advanced).
 */
export function createJumpingClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    ...systemClock,
    now: () => Date.now() + offset,
    jump: (ms) => {
      offset += ms;
    },
  };
}
