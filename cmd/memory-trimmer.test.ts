import { expect, test } from "bun:test";
import { startMemoryTrimmer } from "./memory-trimmer.ts";

/** A trimmer on a fake CPU clock and a timer the test fires by hand. */
function harness() {
  let cpu = 0;
  let stopped = false;
  const trimmer = startMemoryTrimmer({
    release: () => {
      cpu += 3; // a release costs a little CPU itself
    },
    cpuMs: () => cpu,
    periodMs: 5000,
    quietCpuMs: 50,
    setInterval: () => "timer",
    clearInterval: (h) => {
      stopped = h === "timer";
    },
  });
  return {
    trimmer,
    period(usedMs: number) {
      cpu += usedMs;
      trimmer.tick();
    },
    stopped: () => stopped,
  };
}

test("a daemon releases memory once it goes quiet after start-up, then not again while it stays quiet", () => {
  const h = harness();
  h.period(400); // still starting
  expect(h.trimmer.releases).toBe(0);
  h.period(10);
  expect(h.trimmer.releases).toBe(1);
  for (let i = 0; i < 10; i++) h.period(10); // probes and status: a trickle, not work
  expect(h.trimmer.releases).toBe(1);
});

test("a burst of work is followed by one more release when it is over", () => {
  const h = harness();
  h.period(0);
  expect(h.trimmer.releases).toBe(1);
  h.period(900); // a rollout
  h.period(300);
  expect(h.trimmer.releases).toBe(1);
  h.period(20);
  expect(h.trimmer.releases).toBe(2);
  // the release's own CPU time does not make the next period look busy
  h.period(49);
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
  trimmer.tick();
  expect(lines).toEqual(["memory: released 49.0 MB after a busy spell (RSS 97.0 → 48.0 MB)"]);
});
