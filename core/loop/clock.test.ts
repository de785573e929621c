import { expect, test } from "bun:test";
import { goDuration, kubeTime, parseTime, timestamp } from "./clock.ts";
import { createManualClock } from "./testing/manual-clock.ts";

test("goDuration formats like Go", () => {
  expect(goDuration(10_000)).toBe("10s");
  expect(goDuration(80_000)).toBe("1m20s");
  expect(goDuration(300_000)).toBe("5m0s");
  expect(goDuration(160_000)).toBe("2m40s");
});

test("Kubernetes timestamps have whole seconds and parse back", () => {
  const ms = Date.parse("2026-03-04T05:06:07.890Z");
  expect(kubeTime(ms)).toBe("2026-03-04T05:06:07Z");
  expect(timestamp({ now: () => ms })).toBe("2026-03-04T05:06:07Z");
  expect(parseTime("2026-03-04T05:06:07Z")).toBe(ms - 890);
  expect(parseTime(undefined)).toBeNaN();
});

test("a manual clock fires due timers in order, including ones they set", () => {
  const clock = createManualClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => {
    fired.push(`a@${clock.now()}`);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 15);
  }, 10);
  const never = clock.setTimeout(() => fired.push("cleared"), 5);
  clock.clearTimeout(never);
  clock.advance(30);
  expect(fired).toEqual(["a@10", "b@20", "c@25"]);
  expect(clock.now()).toBe(30);
});
