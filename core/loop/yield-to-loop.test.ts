import { expect, test } from "bun:test";
import { setImmediate } from "node:timers";
import { yieldIfSpent, yieldToLoop } from "./yield-to-loop.ts";

/** Resolves after a macrotask: the loop has turned (timers run after setImmediate's check phase). */
const turned = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

/** True when `check()` settled before a task queued by setImmediate just before it ran. */
async function settlesWithoutTurn(check: () => Promise<void>): Promise<boolean> {
  let turn = false;
  setImmediate(() => {
    turn = true;
  });
  await check();
  return !turn;
}

test("work that follows an idle moment goes on without waiting for a turn of the loop", async () => {
  await yieldToLoop();
  await new Promise((resolve) => setTimeout(resolve, 12)); // idle for longer than a slice
  // the first check starts the slice; a quick second one (a ReplicaSet's next pod) is inside it
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
});

test("a chain that has held the loop for a whole slice yields to it", async () => {
  await yieldToLoop();
  await turned();
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
  busy(6);
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(false);
  // after the turn a new slice begins
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
});

test("the slice ends when the loop turns, whoever made it turn", async () => {
  await yieldToLoop();
  await turned();
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
  await turned();
  busy(6); // spent in a later task: not the slice that began before the turn
  expect(await settlesWithoutTurn(() => yieldIfSpent(5))).toBe(true);
});
