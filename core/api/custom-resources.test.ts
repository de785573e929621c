import { afterEach, beforeEach, expect, test } from "bun:test";
import { cronTab, cronTabCrd } from "../crd/testing/crontab.ts";
import { CRD_RESOURCE } from "../crd/types.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { AGGREGATED_CONTENT_TYPE } from "./discovery.ts";

let store: Store;
let registry: Registry;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store);
  await registry.bootstrap();
  app = createApiServer({ client: registry, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

const call = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  app.request(path, {
    ...init,
    headers: {
      Authorization: "Bearer t",
      ...(init.json !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(init.headers as Record<string, string>),
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
const V1 = "/apis/stable.example.com/v1/namespaces/default/crontabs";
const V1BETA1 = "/apis/stable.example.com/v1beta1/namespaces/default/crontabs";

test("a CRD's versions appear in discovery and OpenAPI as soon as it is stored, and go with it", async () => {
  expect((await call(V1)).status).toBe(404);
  await registry.create(CRD_RESOURCE, cronTabCrd());
  const agg = await (await call("/apis", { headers: { Accept: AGGREGATED_CONTENT_TYPE } })).json();
  const group = agg.items.find(
    (g: { metadata: { name: string } }) => g.metadata.name === "stable.example.com",
  );
  expect(group.versions.map((v: { version: string }) => v.version)).toEqual(["v1", "v1beta1"]);
  expect(group.versions[0].resources[0]).toMatchObject({
    resource: "crontabs",
    responseKind: { group: "stable.example.com", version: "v1", kind: "CronTab" },
    scope: "Namespaced",
    shortNames: ["ct"],
    categories: ["all"],
  });
  expect(
    group.versions[0].resources[0].subresources.map((s: { subresource: string }) => s.subresource),
  ).toEqual(["status", "scale"]);
  const index = await (await call("/openapi/v3")).json();
  const doc = await (await call(index.paths["apis/stable.example.com/v1"].serverRelativeURL)).json();
  const schema = doc.components.schemas["com.example.stable.v1.CronTab"];
  expect(schema["x-kubernetes-group-version-kind"]).toEqual([
    { group: "stable.example.com", version: "v1", kind: "CronTab" },
  ]);
  expect(schema.properties.spec.properties.cronSpec.type).toBe("string");
  expect(doc.components.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]).toBeDefined();

  await registry.update(CRD_RESOURCE, {
    ...(await registry.get(CRD_RESOURCE, "", "crontabs.stable.example.com")),
    metadata: { name: "crontabs.stable.example.com", finalizers: [] },
  });
  await registry.delete(CRD_RESOURCE, "", "crontabs.stable.example.com");
  expect((await call(V1)).status).toBe(404);
  const after = await (await call("/apis", { headers: { Accept: AGGREGATED_CONTENT_TYPE } })).json();
  expect(
    after.items.some((g: { metadata: { name: string } }) => g.metadata.name === "stable.example.com"),
  ).toBe(false);
});

test("REST in both served versions, Tables with the printer columns, watch relabelled", async () => {
  await registry.create(CRD_RESOURCE, cronTabCrd());
  const created = await call(V1BETA1, {
    method: "POST",
    json: cronTab("c1", {}, "stable.example.com/v1beta1"),
  });
  expect(created.status).toBe(201);
  expect((await created.json()).apiVersion).toBe("stable.example.com/v1beta1");
  expect((await (await call(`${V1}/c1`)).json()).apiVersion).toBe("stable.example.com/v1");
  const list = await (await call(V1BETA1)).json();
  expect(list).toMatchObject({ kind: "CronTabList", apiVersion: "stable.example.com/v1beta1" });
  expect(list.items[0].apiVersion).toBe("stable.example.com/v1beta1");

  const table = await (
    await call(V1, { headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } })
  ).json();
  expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
    "Name",
    "Spec",
    "Replicas",
    "Age",
  ]);
  expect(table.rows[0].cells.slice(0, 3)).toEqual(["c1", "* * * * */5", 1]);

  const ctl = new AbortController();
  const res = await call(`${V1BETA1}?watch=1`, { signal: ctl.signal });
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("}\n")) text += new TextDecoder().decode((await reader.read()).value);
  ctl.abort();
  expect(JSON.parse(text.trim()).object.apiVersion).toBe("stable.example.com/v1beta1");

  const invalid = await call(V1, { method: "POST", json: cronTab("c2", { replicas: 0 }) });
  expect(invalid.status).toBe(422);
  expect((await invalid.json()).details.causes[0]).toMatchObject({
    field: "spec.replicas",
    message: "Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
  });
});

test("cluster-scoped custom resources and deprecated versions with their warning", async () => {
  const crd = cronTabCrd({ scope: "Cluster" });
  crd.spec.versions[1]!.deprecated = true;
  await registry.create(CRD_RESOURCE, crd);
  expect(
    (await call("/apis/stable.example.com/v1/crontabs", { method: "POST", json: cronTab("c1") })).status,
  ).toBe(201);
  expect((await call("/apis/stable.example.com/v1/namespaces/default/crontabs")).status).toBe(404);
  const old = await call("/apis/stable.example.com/v1beta1/crontabs/c1");
  expect(old.status).toBe(200);
  expect(old.headers.get("Warning")).toBe('299 - "stable.example.com/v1beta1 CronTab is deprecated"');
});
