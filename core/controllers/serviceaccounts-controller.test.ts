import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { ROOT_CA_CONFIGMAP } from "./root-ca-publisher.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const sa = (ns: string) => cluster!.client.tryGet("serviceaccounts", ns, "default");
const ca = (ns: string) => cluster!.client.tryGet("configmaps", ns, ROOT_CA_CONFIGMAP);

test("existing and new namespaces get the default ServiceAccount and kube-root-ca.crt", async () => {
  cluster = await startTestCluster({ rootCaPem: CA });
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    await waitFor(() => sa(ns), { what: `default SA in ${ns}` });
    expect((await waitFor(() => ca(ns))).data).toEqual({ "ca.crt": CA });
  }
  await cluster.client.create("namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "team" },
  });
  await waitFor(() => sa("team"), { what: "default SA in a new namespace" });
  const cm = await waitFor(() => ca("team"));
  expect(cm.metadata.annotations?.["kubernetes.io/description"]).toContain("kube-apiserver");
  expect(cluster.logs).toEqual([]);
});

test("a deleted default ServiceAccount and an edited kube-root-ca.crt are put back", async () => {
  cluster = await startTestCluster({ rootCaPem: CA });
  const first = await waitFor(() => sa("default"));
  const cm = await waitFor(() => ca("default"));
  await cluster.client.delete("serviceaccounts", "default", "default");
  await waitFor(
    async () => (await sa("default"))?.metadata.uid !== first.metadata.uid && (await sa("default")),
    {
      what: "a new default SA",
    },
  );
  await cluster.client.update("configmaps", { ...cm, data: { "ca.crt": "tampered" } });
  await waitFor(
    async () => JSON.stringify((await ca("default"))?.data) === JSON.stringify({ "ca.crt": CA }),
    {
      what: "the CA restored",
    },
  );
});

test("a terminating namespace gets nothing new; without a CA nothing is published", async () => {
  cluster = await startTestCluster();
  await waitFor(() => sa("default"));
  expect(await ca("default")).toBeUndefined();
  expect(cluster.manager.controllers["root-ca-cert-publisher"]).toBeUndefined();
  await cluster.client.create("namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "gone" },
  });
  await waitFor(() => sa("gone"));
  await cluster.client.delete("namespaces", "", "gone");
  await waitFor(async () => !(await cluster!.client.tryGet("namespaces", "", "gone")), {
    what: "namespace gone",
  });
  expect(await sa("gone")).toBeUndefined();
});
