import { afterEach, beforeEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { cronTab, cronTabCrd } from "../crd/testing/crontab.ts";
import { CRD_RESOURCE, type CustomResourceDefinition } from "../crd/types.ts";
import { deploymentManifest } from "../registry/testing/test-fixture.ts";
import { nameConflict } from "./crd-controller.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

const CT = "crontabs.stable.example.com";
let c: TestCluster;
beforeEach(async () => {
  c = await startTestCluster();
});
afterEach(async () => {
  await c.stop();
});

const condition = (crd: CustomResourceDefinition, type: string) =>
  crd.status?.conditions?.find((x) => x.type === type)?.status;

test("a CRD gets NamesAccepted, Established, acceptedNames and storedVersions; a second run changes nothing", async () => {
  await c.client.create(CRD_RESOURCE, cronTabCrd());
  const crd = await waitFor(async () => {
    const x = await c.client.get<CustomResourceDefinition>(CRD_RESOURCE, "", CT);
    return condition(x, "Established") === "True" ? x : undefined;
  });
  expect(condition(crd, "NamesAccepted")).toBe("True");
  expect(crd.status?.acceptedNames).toMatchObject({
    plural: "crontabs",
    kind: "CronTab",
    listKind: "CronTabList",
  });
  expect(crd.status?.storedVersions).toEqual(["v1"]);
  await c.manager.controllers.customresourcedefinition!.reconcile(CT);
  const again = await c.client.get(CRD_RESOURCE, "", CT);
  expect(again.metadata.resourceVersion).toBe(crd.metadata.resourceVersion);
});

test("a second CRD of the same group with a kind in use is not accepted", () => {
  const first = cronTabCrd();
  first.metadata = { ...first.metadata, creationTimestamp: "2026-01-01T00:00:00Z" };
  const second = cronTabCrd();
  second.metadata = { name: "crons.stable.example.com", creationTimestamp: "2026-01-02T00:00:00Z" };
  second.spec.names = { plural: "crons", kind: "CronTab" };
  expect(nameConflict(second, [first, second])).toBe('"crontab" is already in use');
  expect(nameConflict(first, [first, second])).toBeUndefined();
});

test("deleting a CRD deletes its objects first", async () => {
  await c.client.create(CRD_RESOURCE, cronTabCrd());
  await c.client.create(CT, cronTab("a"));
  await c.client.create(CT, { ...cronTab("b"), metadata: { name: "b", namespace: "kube-system" } });
  await c.client.delete(CRD_RESOURCE, "", CT);
  await waitFor(async () => !(await c.client.tryGet(CRD_RESOURCE, "", CT)));
  expect(await c.store.list(CT)).toMatchObject({ items: [] });
});

test("a terminating namespace deletes its custom resources; a deployment owned by a deleted custom resource goes", async () => {
  await c.client.create(CRD_RESOURCE, cronTabCrd());
  await c.client.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
  await c.client.create(CT, { ...cronTab("in-team"), metadata: { name: "in-team", namespace: "team" } });
  await c.client.delete("namespaces", "", "team");
  await waitFor(async () => !(await c.client.tryGet("namespaces", "", "team")));
  expect((await c.store.list(CT, "team")).items).toHaveLength(0);

  const owner = await c.client.create(CT, cronTab("owner"));
  const owned = deploymentManifest("owned");
  owned.metadata.ownerReferences = [
    { apiVersion: "stable.example.com/v1", kind: "CronTab", name: "owner", uid: owner.metadata.uid! },
  ];
  await c.client.create("deployments.apps", owned);
  await c.client.delete(CT, "default", "owner");
  await c.manager.controllers["garbage-collector"]!.reconcile("deployments.apps|default/owned");
  await waitFor(async () => !(await c.client.tryGet("deployments.apps", "default", "owned")));
});
