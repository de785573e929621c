import { expect, test } from "bun:test";
import { createManualClock } from "../loop/testing/manual-clock.ts";
import { createNodeHealth, type NodeHealthStatus } from "./node-health.ts";

const settle = () => new Promise((r) => setTimeout(r, 5));

test("NotReady only after three failed rounds in a row; Ready again at the first good one", async () => {
  const clock = createManualClock();
  let bridge = true;
  const changes: NodeHealthStatus[] = [];
  const health = createNodeHealth({
    clock,
    checks: {
      runtime: async () => {},
      network: async () => {
        if (!bridge) throw new Error("bridge minik0 is gone");
      },
    },
    onChange: (s) => changes.push(s),
  });
  await settle();
  expect(health.status()).toEqual({ ready: true });
  bridge = false;
  for (const _ of [1, 2]) {
    clock.advance(10_000);
    await settle();
  }
  expect(health.status().ready).toBe(true); // two failures: still within the threshold
  clock.advance(10_000);
  await settle();
  expect(health.status()).toEqual({
    ready: false,
    message: "node health checks failing 3 times in a row: network: bridge minik0 is gone",
  });
  bridge = true;
  clock.advance(10_000);
  await settle();
  expect(health.status()).toEqual({ ready: true });
  expect(changes.map((c) => c.ready)).toEqual([false, true]);
  health.stop();
});

test("a failure that comes and goes never adds up", async () => {
  const clock = createManualClock();
  let n = 0;
  const health = createNodeHealth({
    clock,
    checks: {
      runtime: async () => {
        if (n++ % 2) throw new Error("crun --version failed");
      },
    },
  });
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    await settle();
    expect(health.status().ready).toBe(true);
  }
  health.stop();
});
