import { describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createWorkQueue } from "./work-queue.ts";

describe("work queue", () => {
  test("a key added many times is queued once", async () => {
    const q = createWorkQueue();
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.size()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });

  test("a key re-added while processing runs again after, never twice at once", async () => {
    const q = createWorkQueue();
    q.add("a");
    const key = await q.get();
    q.add("a");
    expect(q.size()).toBe(1); // only the one being processed
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(key!);
    await waitFor(() => second === "a");
    q.shutDown();
  });

  test("backoff doubles per failure and resets on forget", async () => {
    const q = createWorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    const times: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      q.addRateLimited("k");
      const k = await q.get();
      times.push(Date.now() - start);
      q.done(k!);
    }
    // 20, then 40, then 80 ms apart (timers may run a little late, never early).
    expect(times[0]!).toBeGreaterThanOrEqual(18);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(38);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(78);
    q.forget("k");
    const t = Date.now();
    q.addRateLimited("k");
    await q.get();
    expect(Date.now() - t).toBeLessThan(60);
    q.shutDown();
  });
});
