import { describe, expect, test } from "bun:test";
import { createManualClock } from "../loop/testing/manual-clock.ts";
import type { KubeObject } from "../object.ts";
import { reason, useRegistry } from "../registry/testing/test-fixture.ts";
import { createNodeLease, microTime, NODE_LEASE_NAMESPACE, NODE_LEASE_RESOURCE } from "./node-lease.ts";

describe("node lease", () => {
  const f = useRegistry();

  test("created in kube-node-lease, owned by the Node, renewed on every beat", async () => {
    const node: KubeObject = await f.registry.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "n1" },
    });
    const clock = createManualClock();
    const lease = createNodeLease({ client: f.registry, nodeName: "n1", clock, log: () => {} });
    await lease.start();
    const first = await f.registry.get(NODE_LEASE_RESOURCE, NODE_LEASE_NAMESPACE, "n1");
    expect(first.spec).toEqual({
      holderIdentity: "n1",
      leaseDurationSeconds: 40,
      renewTime: microTime(clock.now()),
    });
    expect(first.metadata.ownerReferences).toEqual([
      { apiVersion: "v1", kind: "Node", name: "n1", uid: node.metadata.uid! },
    ]);
    clock.advance(10_000);
    const deadline = Date.now() + 2000;
    let renewed = first;
    while (Date.now() < deadline && renewed.metadata.resourceVersion === first.metadata.resourceVersion) {
      await new Promise((r) => setTimeout(r, 5));
      renewed = await f.registry.get(NODE_LEASE_RESOURCE, NODE_LEASE_NAMESPACE, "n1");
    }
    expect((renewed.spec as { renewTime: string }).renewTime).toBe(microTime(clock.now()));
    lease.stop();
  });

  test("a write with a stale resourceVersion is a Conflict (what leader election relies on)", async () => {
    const clock = createManualClock();
    const lease = createNodeLease({ client: f.registry, nodeName: "n1", clock, log: () => {} });
    const stale = await lease.renew();
    clock.advance(1000);
    await lease.renew();
    expect(
      await reason(f.registry.update(NODE_LEASE_RESOURCE, { ...stale, spec: { holderIdentity: "other" } })),
    ).toContain("409 Conflict");
  });
});

test("microTime has microseconds", () => {
  expect(microTime(Date.parse("2026-01-01T00:00:00.123Z"))).toBe("2026-01-01T00:00:00.123000Z");
});
