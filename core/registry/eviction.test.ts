import { describe, expect, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import type { KubeObject } from "../object.ts";
import { errorOf, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const _spec = (o: KubeObject) => o.spec as NonNullable<Deployment["spec"]>;

describe("eviction", () => {
  const pod = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "db" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  const pdb = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "db" },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
  };

  test("evicts when no budget covers the pod", async () => {
    await fx.registry.create("pods", pod("a"));
    await fx.registry.evict("default", "a");
    expect(await fx.registry.tryGet("pods", "default", "a")).toBeUndefined();
  });

  test("429 when the budget allows no disruption; spends one when it does", async () => {
    await fx.registry.create("pods", pod("a"));
    await fx.registry.create("pods", pod("b"));
    const budget = await fx.registry.create("poddisruptionbudgets.policy", pdb);
    await fx.registry.updateStatus("poddisruptionbudgets.policy", {
      ...budget,
      status: { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1 },
    });
    await fx.registry.evict("default", "b", { dryRun: true });
    await fx.registry.evict("default", "a");
    expect(await fx.registry.tryGet("pods", "default", "a")).toBeUndefined();
    const err = await errorOf(fx.registry.evict("default", "b"));
    expect(err.code).toBe(429);
    expect(err.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(await fx.registry.tryGet("pods", "default", "b")).toBeDefined();
  });
});
