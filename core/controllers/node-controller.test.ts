import { describe, expect, test } from "bun:test";
import { NODE_STATUS_REPORT_MS, nodeStatus } from "./node-controller.ts";
import { testHostInfo } from "./testing/test-kit.ts";

const host = testHostInfo();

const at = (ms: number) => [ms, new Date(ms).toISOString()] as const;

describe("node status reports (the kubelet's nodeStatusReportFrequency)", () => {
  const t0 = Date.parse("2026-12-06T10:00:00Z");
  const first = nodeStatus(undefined, host, true, ...at(t0), NODE_STATUS_REPORT_MS)!;

  test("an unchanged status is not posted again within the report period: the Lease is the heartbeat", () => {
    expect(first.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(nodeStatus(first, host, true, ...at(t0 + 10_000), NODE_STATUS_REPORT_MS)).toBeUndefined();
    expect(nodeStatus(first, host, true, ...at(t0 + 4 * 60_000), NODE_STATUS_REPORT_MS)).toBeUndefined();
  });

  test("an unchanged status is posted once the report period has passed, with a new heartbeat time", () => {
    const later = nodeStatus(first, host, true, ...at(t0 + NODE_STATUS_REPORT_MS), NODE_STATUS_REPORT_MS);
    const ready = later?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.lastHeartbeatTime).toBe(new Date(t0 + NODE_STATUS_REPORT_MS).toISOString());
    expect(ready?.lastTransitionTime).toBe(new Date(t0).toISOString());
  });

  test("a change is posted at once, whatever the period", () => {
    const pressed = { ...host, memoryAvailableBytes: 10 * 2 ** 20 };
    const changed = nodeStatus(first, pressed, true, ...at(t0 + 10_000), NODE_STATUS_REPORT_MS);
    const memory = changed?.conditions?.find((c) => c.type === "MemoryPressure");
    expect(memory).toMatchObject({ status: "True", lastTransitionTime: new Date(t0 + 10_000).toISOString() });
    const notReady = nodeStatus(first, host, false, ...at(t0 + 10_000), NODE_STATUS_REPORT_MS);
    expect(notReady?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  });
});
