import { describe, expect, test } from "bun:test";
import { cpuProposal, stabilize } from "./hpa-replicas.ts";

const pod = (usageMillis: number | undefined, ready = true) => ({ requestMillis: 100, usageMillis, ready });

describe("HPA replica arithmetic", () => {
  test("scales by usage over target", () => {
    expect(cpuProposal(2, [pod(100), pod(100)], { utilization: 50 })).toEqual({
      replicas: 4,
      utilization: 100,
      averageMillis: 100,
    });
    expect(cpuProposal(4, [pod(10), pod(10), pod(10), pod(10)], { utilization: 50 }).replicas).toBe(1);
  });

  test("stays put within the 10% tolerance", () => {
    expect(cpuProposal(3, [pod(54), pod(54), pod(54)], { utilization: 50 }).replicas).toBe(3);
  });

  test("an absolute average target works too", () => {
    expect(cpuProposal(1, [pod(300)], { averageMillis: 100 }).replicas).toBe(3);
  });

  test("missing metrics never push the wrong way", () => {
    // Scaling down with a pod without metrics: it counts as using its whole request.
    expect(cpuProposal(2, [pod(10), pod(undefined)], { utilization: 50 }).replicas).toBe(2);
    // Scaling up with an unready pod: it counts as idle.
    expect(cpuProposal(2, [pod(200), pod(50, false)], { utilization: 50 }).replicas).toBe(4);
  });

  test("no usable metrics is an error", () => {
    expect(() => cpuProposal(1, [pod(undefined)], { utilization: 50 })).toThrow(/did not receive metrics/);
  });

  test("scale-down stabilization keeps the highest recent recommendation", () => {
    const history = [
      { at: 1000, replicas: 4 },
      { at: 2000, replicas: 2 },
    ];
    expect(stabilize(4, 1, history, 2500, 0, 3000)).toBe(4);
    expect(stabilize(4, 1, history, 4500, 0, 3000)).toBe(2);
    expect(stabilize(4, 1, history, 9000, 0, 3000)).toBe(1);
  });
});
