import { expect, test } from "bun:test";
import { BURST_REPLICAS, forEachInSlowStart, slowStartBatch } from "./slow-start.ts";

test("batches grow 1, 2, 4 … up to the cap, and every call is made once", async () => {
  const inFlight: number[] = [];
  let running = 0;
  const result = await slowStartBatch(
    200,
    async (i) => {
      running++;
      inFlight.push(running);
      await Promise.resolve();
      running--;
      return i;
    },
    64,
  );
  expect(result.done.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  expect(result.failure).toBeUndefined();
  expect(Math.max(...inFlight)).toBe(64);
});

test("a failing batch stops the rest: a template that cannot work costs a few calls, not thousands", async () => {
  const calls: number[] = [];
  const result = await slowStartBatch(5_000, async (i) => {
    calls.push(i);
    throw new Error(`quota exceeded (${i})`);
  });
  expect(calls).toEqual([0]);
  expect(result.done).toEqual([]);
  expect((result.failure as Error).message).toBe("quota exceeded (0)");

  const mixed: number[] = [];
  const partial = await slowStartBatch(100, async (i) => {
    mixed.push(i);
    if (i === 5) throw new Error("no");
    return i;
  });
  // batches [0] [1,2] [3..6]: the one holding index 5 finishes, nothing after it starts
  expect(mixed.toSorted((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(partial.done).toHaveLength(6);
  expect(partial.failures).toHaveLength(1);
});

test("forEachInSlowStart: a burst at most, and the first failure thrown after its batch", async () => {
  const seen: number[] = [];
  await forEachInSlowStart(
    Array.from({ length: BURST_REPLICAS + 50 }, (_, i) => i),
    async (i) => void seen.push(i),
  );
  expect(seen.length).toBe(BURST_REPLICAS);
  const calls: number[] = [];
  const run = forEachInSlowStart([0, 1, 2, 3, 4, 5], async (i) => {
    calls.push(i);
    if (i === 2) throw new Error("quota exceeded");
  });
  await expect(run).rejects.toThrow("quota exceeded");
  expect(calls).toEqual([0, 1, 2]);
});
