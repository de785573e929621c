import { describe, expect, test } from "bun:test";
import type { PodStats } from "../seams/node-services.ts";
import { createPodCpuMetrics } from "./pod-cpu-metrics.ts";

describe("pod CPU metrics from node stats", () => {
  test("usage is the rate of cumulative CPU time between samples", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    let cpuNs = 0;
    let calls = 0;
    const node = {
      async podStats(namespace?: string): Promise<PodStats[]> {
        calls++;
        const container = {
          name: "c",
          timestamp: new Date(now).toISOString(),
          cpuUsageNanoSeconds: cpuNs,
          memoryUsageBytes: 0,
          memoryWorkingSetBytes: 0,
        };
        return [
          {
            namespace: namespace ?? "default",
            name: "web-1",
            containers: [container, { ...container, name: "d" }],
          },
        ];
      },
    };
    const metrics = createPodCpuMetrics(node, { now: () => now });
    expect(await metrics.podCpuMillis("default", "web-1")).toBeUndefined(); // first sample
    expect(await metrics.podCpuMillis("default", "missing")).toBeUndefined();
    expect(calls).toBe(1); // one fetch serves the namespace for a while
    now += 15_000;
    cpuNs += 1.5e9; // each of two containers used 1.5 s of CPU in 15 s: 100m each
    expect(await metrics.podCpuMillis("default", "web-1")).toBeCloseTo(200, 5);
    expect(await metrics.podCpuMillis("default", "web-1")).toBeCloseTo(200, 5);
  });
});
