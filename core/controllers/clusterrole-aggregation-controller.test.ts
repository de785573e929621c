import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { ensureBootstrapPolicy } from "../auth/bootstrap-policy.ts";
import type { KubeObject } from "../object.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

const RESOURCE = "clusterroles.rbac.authorization.k8s.io";
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const rules = async (name: string) =>
  JSON.stringify((await cluster!.client.get(RESOURCE, "", name)).rules ?? []);

test("view, edit and admin aggregate the system:aggregate-to-* roles and any role labelled to join", async () => {
  cluster = await startTestCluster();
  await ensureBootstrapPolicy(cluster.client);
  const view = await waitFor(async () => {
    const r = (await cluster!.client.get(RESOURCE, "", "view")).rules as unknown[] | undefined;
    return r?.length ? r : undefined;
  });
  expect(view).toEqual(
    (await cluster.client.get(RESOURCE, "", "system:aggregate-to-view")).rules as unknown[],
  );
  // edit = aggregate-to-edit then aggregate-to-view (name order), without duplicates
  await waitFor(
    async () =>
      (await rules("edit")).includes('"serviceaccounts/token"') &&
      (await rules("edit")).includes('"pods/log"'),
  );

  const crd = { apiGroups: ["example.com"], resources: ["widgets"], verbs: ["get", "list"] };
  await cluster.client.create(RESOURCE, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "widgets-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
    rules: [crd],
  } as KubeObject);
  await waitFor(async () => (await rules("view")).includes("widgets"), { what: "widgets in view" });
  // rules written by hand into an aggregated role are put back
  const admin = await cluster.client.get(RESOURCE, "", "admin");
  await cluster.client.update(RESOURCE, { ...admin, rules: [] });
  await waitFor(async () => (await rules("admin")).includes("rolebindings"), { what: "admin re-aggregated" });
  await cluster.client.delete(RESOURCE, "", "widgets-view");
  await waitFor(async () => !(await rules("view")).includes("widgets"), { what: "widgets gone from view" });
  expect(cluster.logs).toEqual([]);
});
