import { expect, test } from "bun:test";
import { Backoff } from "./backoff.ts";

test("back-off doubles from 10s to 5m and resets after 10 min", () => {
  let now = 0;
  const b = new Backoff(() => now);
  expect(b.isInBackoffSince("k", now)).toBe(false);
  b.next("k", now);
  expect(b.get("k")).toBe(10_000);
  now = 5_000;
  expect(b.isInBackoffSince("k", 1_000)).toBe(true);
  expect(b.remainingMs("k", 1_000)).toBe(6_000);
  now = 11_001;
  expect(b.isInBackoffSince("k", 1_000)).toBe(false);
  const seen: number[] = [];
  for (let i = 0; i < 7; i++) {
    b.next("k", now);
    seen.push(b.get("k"));
  }
  expect(seen).toEqual([20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  // An exit more than 10 minutes after the previous one starts over.
  now += 600_001;
  expect(b.isInBackoffSince("k", now)).toBe(false);
  b.next("k", now);
  expect(b.get("k")).toBe(10_000);
  b.forget("k");
  expect(b.get("k")).toBe(0);
});
