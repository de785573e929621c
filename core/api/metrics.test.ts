import { expect, test } from "bun:test";
import type { NodeServices, PodStats } from "../seams/node-services.ts";
import { createMetrics, windowDuration } from "./metrics.ts";

/** A node whose cumulative CPU counters and sample times the test scripts exactly. */
function scriptedNode(samples: { cpuNs: number; at: number }[]) {
  let i = 0;
  const next = () => samples[Math.min(i++, samples.length - 1)]!;
  const node = {
    async podStats(): Promise<PodStats[]> {
      const s = next();
      const timestamp = new Date(s.at).toISOString();
      return [
        {
          namespace: "default",
          name: "busy",
          containers: [
            {
              name: "main",
              timestamp,
              cpuUsageNanoSeconds: s.cpuNs,
              memoryUsageBytes: 0,
              memoryWorkingSetBytes: 3 << 20,
            },
          ],
        },
      ];
    },
    async nodeStats() {
      const s = next();
      return {
        cpuUsageNanoSeconds: s.cpuNs,
        memoryWorkingSetBytes: 1 << 30,
        timestamp: new Date(s.at).toISOString(),
      };
    },
  };
  return node as unknown as NodeServices;
}

const T = Date.parse("2026-12-06T12:00:00Z");

test("pod CPU is the measured rate in nanocores: half a core reads 500m, a quarter 250m; window is the span", async () => {
  const metrics = createMetrics(
    scriptedNode([
      { cpuNs: 7e9, at: T },
      { cpuNs: 7e9 + 125e6, at: T + 250 }, // 125 ms of CPU in 250 ms
      { cpuNs: 7e9 + 125e6 + 2.5e9, at: T + 10_250 }, // 2.5 s of CPU in 10 s
    ]),
  );
  const [first] = await metrics.pods("default");
  expect(first!.containers[0]!.usage).toEqual({ cpu: "500000000n", memory: "3072Ki" });
  expect(first!.window).toBe("250ms");
  const [second] = await metrics.pods("default");
  expect(second!.containers[0]!.usage.cpu).toBe("250000000n");
  expect(second!.window).toBe("10s");
});

test("node CPU: two full cores over 15 s reads 2000m, window 15s", async () => {
  const metrics = createMetrics(
    scriptedNode([
      { cpuNs: 1e12, at: T },
      { cpuNs: 1e12 + 1e9, at: T + 500 },
      { cpuNs: 1e12 + 1e9 + 30e9, at: T + 15_500 },
    ]),
  );
  const warm = await metrics.node("minik");
  expect(warm.usage.cpu).toBe("2000000000n");
  expect(warm.window).toBe("500ms");
  const later = await metrics.node("minik");
  expect(later.usage.cpu).toBe("2000000000n");
  expect(later.window).toBe("15s");
  expect(later.usage.memory).toBe(`${1 << 20}Ki`);
});

test("windows print as Go durations", () => {
  expect(windowDuration(0)).toBe("0s");
  expect(windowDuration(250)).toBe("250ms");
  expect(windowDuration(10_000)).toBe("10s");
  expect(windowDuration(12_500)).toBe("12.5s");
  expect(windowDuration(90_000)).toBe("1m30s");
});
