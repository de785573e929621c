import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Deployment } from "kubernetes-types/apps/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import { RESOURCES, resourceKey } from "../resources.ts";
import { keyOf } from "./controller.ts";
import type { ControllerName } from "./manager.ts";
import type { Kube } from "./owner-references.ts";
import {
  deploymentManifest,
  hpaManifest,
  listAll,
  startTestCluster,
  TEST_NODE,
  type TestCluster,
} from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

const WATCHED = RESOURCES.filter((r) => r.kind !== "Event").map(resourceKey);

/** resource/namespace/name → resourceVersion of everything but Events (those are written async). */
async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of WATCHED) {
    for (const o of (await cluster.client.list(r)).items)
      out[`${r}/${keyOf(o)}`] = o.metadata.resourceVersion!;
  }
  return out;
}

async function all(resource: string): Promise<KubeObject[]> {
  return (await cluster.client.list(resource)).items;
}

describe("steady state", () => {
  test("every controller run again over a settled cluster writes nothing", async () => {
    cluster = await startTestCluster({ metrics: { podCpuMillis: async () => 50 }, hpaSyncPeriodMs: 100 });
    const { client } = cluster;
    await client.create(
      "deployments.apps",
      deploymentManifest("web", { replicas: 2, container: { resources: { requests: { cpu: "100m" } } } }),
    );
    await client.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    await client.create("poddisruptionbudgets.policy", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "web" } } },
    });
    await client.create("horizontalpodautoscalers.autoscaling", hpaManifest("web", { maxReplicas: 5 }));
    await waitFor(
      async () => {
        const d = (await all("deployments.apps"))[0] as Kube<Deployment>;
        const settled =
          d.status?.availableReplicas === 2 &&
          d.status.conditions?.some((c) => c.reason === "NewReplicaSetAvailable");
        const hpa = (await all("horizontalpodautoscalers.autoscaling"))[0]!;
        const pdb = (await all("poddisruptionbudgets.policy"))[0]!;
        const ep = await client.tryGet("endpoints", "default", "web");
        return (
          settled &&
          (hpa.status as { currentMetrics?: unknown[] })?.currentMetrics &&
          (pdb.status as { currentHealthy?: number })?.currentHealthy === 2 &&
          ep
        );
      },
      { what: "cluster settled", timeoutMs: 3000 },
    );

    const before = await versions();
    const keysOf = async (resource: string) => (await all(resource)).map(keyOf);
    const runs: [ControllerName, string[]][] = [
      ["node", [TEST_NODE]],
      ["deployment", await keysOf("deployments.apps")],
      ["replicaset", await keysOf("replicasets.apps")],
      ["scheduler", await keysOf("pods")],
      ["endpoints", await keysOf("services")],
      ["horizontal-pod-autoscaler", await keysOf("horizontalpodautoscalers.autoscaling")],
      ["disruption", await keysOf("poddisruptionbudgets.policy")],
      ["namespace", await keysOf("namespaces")],
      [
        "garbage-collector",
        (
          await Promise.all(
            WATCHED.map(async (r) => (await keysOf(r)).map((k) => `${r}|${k.includes("/") ? k : `/${k}`}`)),
          )
        ).flat(),
      ],
    ];
    for (const [name, keys] of runs) {
      for (const key of keys) await cluster.manager.controllers[name]!.reconcile(key);
    }
    expect(await versions()).toEqual(before);
    expect(cluster.logs).toEqual([]);
    expect((await listAll(client, "pods")).length).toBe(2);
  });
});
