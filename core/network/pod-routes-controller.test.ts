import { afterEach, expect, test } from "bun:test";
import type { Node } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { Kube } from "../controllers/owner-references.ts";
import { startTestCluster, TEST_NODE, type TestCluster } from "../controllers/testing/test-kit.ts";
import { createFakePodRoutes } from "../seams/testing/fake-pod-routes.ts";
import { createPodRoutesController } from "./pod-routes-controller.ts";

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

test("a route to every other node's pod range via its InternalIP; a node that leaves takes its route", async () => {
  const routes = createFakePodRoutes();
  cluster = await startTestCluster({
    clusterCidr: "10.88.0.0/15",
    ownPodCidr: "10.88.0.0/16",
    extra: (ctx) => ({ "pod-routes": createPodRoutesController(ctx, { nodeName: TEST_NODE, routes }) }),
  });
  const worker = await cluster.client.create("nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "worker" },
    spec: {},
  });
  // no address yet: no route (the node has not posted its status)
  await waitFor(async () => (await cluster.client.get<Kube<Node>>("nodes", "", "worker")).spec?.podCIDR);
  expect(routes.current).toEqual([]);
  await cluster.client.updateStatus("nodes", {
    ...(await cluster.client.get("nodes", "", "worker")),
    status: { addresses: [{ type: "InternalIP", address: "192.0.2.20" }] },
  });
  await waitFor(() => routes.current.length === 1);
  // the server's own node (10.88.0.0/16) is never routed to itself
  expect(routes.current).toEqual([{ node: "worker", podCidr: "10.89.0.0/24", via: "192.0.2.20" }]);
  await cluster.client.delete("nodes", "", worker.metadata.name);
  await waitFor(() => routes.current.length === 0, { what: "route removed with its node" });
});
