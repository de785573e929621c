import { describe, expect, test } from "bun:test";
import { createKillSchedule } from "./kills-first.ts";

/** A clean-up's wait, observed: whether `quiet()` has resolved yet. */
function watchQuiet(p: Promise<void>): { readonly done: boolean } {
  const state = { done: false };
  void p.then(() => (state.done = true));
  return state;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("kill schedule (kills first, clean-up after)", () => {
  test("nothing due: a clean-up goes at once", async () => {
    const q = watchQuiet(createKillSchedule().quiet());
    await tick();
    expect(q.done).toBe(true);
  });

  test("a kill due far beyond the horizon (a long grace) holds nothing up", async () => {
    const t = 0;
    const kills = createKillSchedule({ horizonMs: 250, now: () => t });
    kills.due("slow", 30_000);
    const q = watchQuiet(kills.quiet());
    await tick();
    expect(q.done).toBe(true);
  });

  test("waits until every kill due soon or awaiting its exit is done", async () => {
    let t = 0;
    const kills = createKillSchedule({ horizonMs: 250, maxWaitMs: 60_000, now: () => t });
    kills.due("a", 0); // SIGKILL sent, exit not seen yet
    kills.due("b", 80); // SIGKILL in 80 ms
    kills.due("far", 30_000);
    const q = watchQuiet(kills.quiet());
    kills.done("a");
    await tick();
    expect(q.done).toBe(false); // b is still due within the horizon
    t = 100;
    kills.done("b");
    await tick();
    expect(q.done).toBe(true);
  });

  test("a deadline that came into the horizon meanwhile keeps the clean-up waiting", async () => {
    let t = 0;
    const kills = createKillSchedule({ horizonMs: 250, maxWaitMs: 60_000, now: () => t });
    kills.due("a", 0);
    kills.due("b", 400); // beyond the horizon now…
    const q = watchQuiet(kills.quiet());
    t = 200; // …within it by the time a is done
    kills.done("a");
    await tick();
    expect(q.done).toBe(false);
    kills.done("b");
    await tick();
    expect(q.done).toBe(true);
  });

  test("the wait is bounded: a container that never exits delays clean-ups, never blocks them", async () => {
    const kills = createKillSchedule({ maxWaitMs: 30 });
    kills.due("stuck", 0);
    const started = performance.now();
    await kills.quiet();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
