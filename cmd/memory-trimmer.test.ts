import { expect, test } from "bun:test";
import { MIN_RELEASE_GAP_MS, startMemoryTrimmer, TRIM_PERIOD_MS } from "./memory-trimmer.ts";

/** A trimmer on a fake CPU clock and a timer the test fires by hand. */
function harness() {
  let cpu = 0;
  let stopped = false;
  const trimmer = startMemoryTrimmer({
    release: () => {
      cpu += 3; // a release costs a little CPU itself
    },
    cpuMs: () => cpu,
    setInterval: () => "timer",
    clearInterval: (h) => {
      stopped = h === "timer";
    },
  });
  return {
    trimmer,
    /** One period in which the daemon used `usedMs` of CPU. */
    period(usedMs: number, times = 1) {
      for (let i = 0; i < times; i++) {
        cpu += usedMs;
        trimmer.tick();
      }
    },
    stopped: () => stopped,
  };
}

const gap = MIN_RELEASE_GAP_MS / TRIM_PERIOD_MS;

test("a daemon releases memory once it has been quiet three periods after start-up, then not again while quiet", () => {
  const h = harness();
  h.period(400); // still starting
  h.period(10, 2);
  expect(h.trimmer.releases).toBe(0);
  h.period(10);
  expect(h.trimmer.releases).toBe(1);
  h.period(10, 200); // probes and status: a trickle, not work
  expect(h.trimmer.releases).toBe(1);
});

test("a pause inside work is not idleness: the quiet periods must come in a row", () => {
  const h = harness();
  for (let i = 0; i < 10; i++) {
    h.period(10, 2);
    h.period(300);
  }
  expect(h.trimmer.releases).toBe(0);
});

test("a daemon wavering between a little work and none does not release on every lull", () => {
  const h = harness();
  h.period(10, 3);
  expect(h.trimmer.releases).toBe(1);
  for (let i = 0; i < 200; i++) {
    h.period(120); // a blip: above quiet, below work
    h.period(10, 3);
  }
  expect(h.trimmer.releases).toBe(1);
});

test("real work re-arms it, but releases are at least the minimum gap apart", () => {
  const h = harness();
  h.period(10, 3);
  expect(h.trimmer.releases).toBe(1);
  h.period(900); // a rollout
  h.period(10, 3);
  expect(h.trimmer.releases).toBe(1); // too soon after the last
  h.period(10, gap);
  expect(h.trimmer.releases).toBe(2); // armed by the rollout, gap passed
  // the release's own CPU time does not make the next period look busy
  h.period(49, 3);
  expect(h.trimmer.releases).toBe(2);
});

test("stop clears the timer", () => {
  const h = harness();
  h.trimmer.stop();
  expect(h.stopped()).toBe(true);
});

test("each release says what it gave back", () => {
  let rss = 97 * 2 ** 20;
  const lines: string[] = [];
  const trimmer = startMemoryTrimmer({
    release: () => {
      rss = 48 * 2 ** 20;
    },
    cpuMs: () => 0,
    rssBytes: () => rss,
    log: (m) => lines.push(m),
    setInterval: () => 0,
    clearInterval: () => {},
  });
  for (let i = 0; i < 3; i++) trimmer.tick();
  expect(lines).toEqual(["memory: released 49.0 MB after a busy spell (RSS 97.0 → 48.0 MB)"]);
});
