import { expect, test } from "bun:test";
import { processQueue } from "./queue-workers.ts";
import { createManualClock } from "./testing/manual-clock.ts";
import { createWorkQueue } from "./work-queue.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise with its resolve, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

test("with unbounded concurrency different keys run at once, one key never twice at once", async () => {
  const queue = createWorkQueue();
  const gates = new Map([
    ["a", gate()],
    ["b", gate()],
  ]);
  const runs: string[] = [];
  const running = new Set<string>();
  let overlap = false;
  const done = processQueue(queue, Number.POSITIVE_INFINITY, async (key) => {
    if (running.has(key)) overlap = true;
    running.add(key);
    runs.push(key);
    await gates.get(key)?.promise;
    running.delete(key);
  });
  queue.add("a");
  queue.add("b");
  await sleep(0);
  expect([...running].sort()).toEqual(["a", "b"]);
  queue.add("a"); // re-added while "a" runs: runs once more afterwards
  queue.add("a");
  gates.get("a")!.open();
  gates.delete("a");
  await sleep(0);
  expect(runs.filter((k) => k === "a")).toHaveLength(2);
  gates.get("b")!.open();
  await queue.idle();
  expect(overlap).toBe(false);
  queue.shutDown();
  await done;
});

test("a fixed concurrency runs at most that many keys at once", async () => {
  const queue = createWorkQueue();
  let running = 0;
  let most = 0;
  const done = processQueue(queue, 2, async () => {
    running++;
    most = Math.max(most, running);
    await sleep(5);
    running--;
  });
  for (const key of ["a", "b", "c", "d", "e"]) queue.add(key);
  await queue.idle();
  expect(most).toBe(2);
  queue.shutDown();
  await done;
});

test("addAfter keeps the earliest deadline per key; shutDown waits for the running handler", async () => {
  const clock = createManualClock(0);
  const queue = createWorkQueue({ clock });
  const runs: number[] = [];
  const hold = gate();
  const done = processQueue(queue, Number.POSITIVE_INFINITY, async () => {
    runs.push(clock.now());
    if (runs.length === 2) await hold.promise;
  });
  queue.addAfter("k", 100);
  queue.addAfter("k", 50);
  queue.addAfter("k", 200);
  clock.advance(49);
  await sleep(0);
  expect(runs).toEqual([]);
  clock.advance(1);
  await queue.idle();
  expect(runs).toEqual([50]);
  clock.advance(200);
  await queue.idle();
  expect(runs).toEqual([50]); // the later requests were covered by the earlier run
  queue.add("k");
  await sleep(0);
  queue.shutDown();
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  await sleep(0);
  expect(finished).toBe(false);
  hold.open();
  await done;
  expect(runs).toEqual([50, 250]);
});
