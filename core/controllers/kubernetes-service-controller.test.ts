import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

test("default/kubernetes leads to the API listener for pods, and is put back when changed", async () => {
  cluster = await startTestCluster({
    kubernetesService: { clusterIP: "10.96.0.1", endpoint: { ip: "10.88.0.1", port: 6443 } },
  });
  const { client } = cluster;
  const svc = await waitFor(() => client.tryGet("services", "default", "kubernetes"));
  expect(svc.metadata.labels).toEqual({ component: "apiserver", provider: "kubernetes" });
  expect(svc.spec).toMatchObject({
    type: "ClusterIP",
    clusterIP: "10.96.0.1",
    ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
  });
  const eps = await waitFor(() => client.tryGet("endpoints", "default", "kubernetes"));
  expect(eps.subsets).toEqual([
    { addresses: [{ ip: "10.88.0.1" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] },
  ]);
  const slice = await waitFor(() =>
    client.tryGet("endpointslices.discovery.k8s.io", "default", "kubernetes"),
  );
  expect(slice).toMatchObject({
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.88.0.1"], conditions: { ready: true } }],
    metadata: { labels: { "kubernetes.io/service-name": "kubernetes" } },
  });
  await client.update("endpoints", { ...eps, subsets: [] });
  await waitFor(
    async () => ((await client.get("endpoints", "default", "kubernetes")).subsets as unknown[]).length === 1,
    {
      what: "the Endpoints put back",
    },
  );
  await client.delete("endpointslices.discovery.k8s.io", "default", "kubernetes");
  await waitFor(() => client.tryGet("endpointslices.discovery.k8s.io", "default", "kubernetes"), {
    what: "the slice re-created (and not removed by the endpoints controller)",
  });
  expect(cluster.logs).toEqual([]);
});
