import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { waitFor } from "../../test/support/env.ts";
import type { Kube } from "./owner-references.ts";
import { deploymentManifest, listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

type Pdb = Kube<PodDisruptionBudget>;

async function pdbStatus(name: string) {
  return (await cluster.client.get<Pdb>("poddisruptionbudgets.policy", "default", name)).status;
}

describe("disruption controller", () => {
  test("PodDisruptionBudget status from minAvailable and maxUnavailable", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", deploymentManifest("web", { replicas: 3 }));
    const budget = (name: string, spec: object) =>
      cluster.client.create("poddisruptionbudgets.policy", {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name },
        spec: { selector: { matchLabels: { app: "web" } }, ...spec },
      });
    await budget("min2", { minAvailable: 2 });
    await budget("max50", { maxUnavailable: "50%" });
    const min2 = await waitFor(
      async () => {
        const s = await pdbStatus("min2");
        return s?.currentHealthy === 3 ? s : undefined;
      },
      { what: "3 healthy" },
    );
    expect(min2).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect(min2.conditions?.find((c) => c.type === "DisruptionAllowed")).toMatchObject({
      status: "True",
      reason: "SufficientPods",
    });
    // 50% of 3 rounds up to 2 unavailable: 1 must stay healthy.
    const max50 = await waitFor(async () => {
      const s = await pdbStatus("max50");
      return s?.currentHealthy === 3 ? s : undefined;
    });
    expect(max50).toMatchObject({ expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 });

    const pods = await listAll<Kube<Pod>>(cluster.client, "pods");
    await cluster.kubelet.setReady("default", pods[0]!.metadata.name!, false);
    await cluster.kubelet.setReady("default", pods[1]!.metadata.name!, false);
    const low = await waitFor(
      async () => {
        const s = await pdbStatus("min2");
        return s?.currentHealthy === 1 ? s : undefined;
      },
      { what: "1 healthy" },
    );
    expect(low.disruptionsAllowed).toBe(0);
    expect(low.conditions?.find((c) => c.type === "DisruptionAllowed")).toMatchObject({
      status: "False",
      reason: "InsufficientPods",
    });
  });
});
