import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { ResourceQuota } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { Kube } from "./owner-references.ts";
import { deploymentManifest, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

test("status.hard mirrors spec.hard and status.used follows the namespace's objects", async () => {
  cluster = await startTestCluster();
  await cluster.client.create("resourcequotas", {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "q", namespace: "default" },
    spec: { hard: { pods: "10", configmaps: "5", "requests.memory": "1Gi", "count/deployments.apps": "3" } },
  });
  const manifest = deploymentManifest("web", { replicas: 2 });
  const containers = (manifest.spec as { template: { spec: { containers: { resources?: object }[] } } })
    .template.spec.containers;
  containers[0]!.resources = { requests: { memory: "128Mi" } };
  await cluster.client.create("deployments.apps", manifest);
  const status = await waitFor(
    async () => {
      const q = await cluster.client.get<Kube<ResourceQuota>>("resourcequotas", "default", "q");
      return q.status?.used?.pods === "2" ? q.status : undefined;
    },
    { what: "2 pods counted" },
  );
  expect(status.hard).toEqual({
    pods: "10",
    configmaps: "5",
    "requests.memory": "1Gi",
    "count/deployments.apps": "3",
  });
  // kube-root-ca.crt is the namespace's one ConfigMap when its publisher runs; none here.
  expect(status.used).toEqual({
    pods: "2",
    configmaps: expect.any(String),
    "requests.memory": "256Mi",
    "count/deployments.apps": "1",
  });
});
