import { afterEach, beforeEach, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { AGGREGATED_CONTENT_TYPE } from "./discovery.ts";

let store: Store;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const registry = createRegistry(store);
  await registry.bootstrap();
  app = createApiServer({ client: registry, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

function call(path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers: Record<string, string> = {
    Authorization: "Bearer t",
    ...(init.headers as Record<string, string>),
  };
  if (init.json !== undefined) headers["Content-Type"] ??= "application/json";
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return app.request(path, { ...init, headers, body });
}

const WARNING =
  '299 - "extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment"';
const EXT = "/apis/extensions/v1beta1/namespaces/default/deployments";
// the article's manifest, as YAML-to-JSON gives it
const article = {
  apiVersion: "extensions/v1beta1",
  kind: "Deployment",
  metadata: { name: "nginx-deployment" },
  spec: {
    replicas: 2,
    template: {
      metadata: { labels: { app: "nginx-server" } },
      spec: { containers: [{ name: "nginx", image: "nginx:1.7.9", ports: [{ containerPort: 80 }] }] },
    },
  },
};

test("create through extensions/v1beta1: old defaults, stored as apps/v1, one warning", async () => {
  const res = await call(`${EXT}?fieldValidation=Strict`, { method: "POST", json: article });
  expect(res.status).toBe(201);
  expect(res.headers.get("Warning")).toBe(WARNING);
  const body = await res.json();
  expect(body.apiVersion).toBe("extensions/v1beta1");
  expect(body.spec.selector).toEqual({ matchLabels: { app: "nginx-server" } });
  expect(body.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 1, maxSurge: 1 });
  expect(body.spec.revisionHistoryLimit).toBe(2147483647);
  expect(body.spec.progressDeadlineSeconds).toBe(2147483647);
  expect(body.metadata.labels).toEqual({ app: "nginx-server" });

  const stored = await (await call("/apis/apps/v1/namespaces/default/deployments/nginx-deployment")).json();
  expect(stored.apiVersion).toBe("apps/v1");
  expect(stored.spec.selector).toEqual({ matchLabels: { app: "nginx-server" } });
});

test("apps/v1beta1 and apps/v1beta2 keep their own defaults; v1beta2 needs a selector", async () => {
  const v1beta1 = { ...structuredClone(article), apiVersion: "apps/v1beta1" };
  const a = await call("/apis/apps/v1beta1/namespaces/default/deployments", {
    method: "POST",
    json: v1beta1,
  });
  expect(a.status).toBe(201);
  expect(a.headers.get("Warning")).toContain("apps/v1beta1 Deployment is deprecated in v1.9+");
  const ab = await a.json();
  expect(ab.spec.revisionHistoryLimit).toBe(2);
  expect(ab.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: "25%", maxSurge: "25%" });

  const v1beta2 = { ...structuredClone(article), apiVersion: "apps/v1beta2" };
  v1beta2.metadata.name = "b";
  const b = await call("/apis/apps/v1beta2/namespaces/default/deployments", {
    method: "POST",
    json: v1beta2,
  });
  expect(b.status).toBe(422);
  expect(b.headers.get("Warning")).toContain("apps/v1beta2 Deployment is deprecated");
  expect((await b.json()).details.causes.map((c: { field: string }) => c.field)).toContain("spec.selector");
});

test("get, list, table, patch, rollbackTo and delete all answer in the old version with the warning", async () => {
  const withRollback = structuredClone(article) as typeof article & { spec: { rollbackTo?: unknown } };
  withRollback.spec.rollbackTo = { revision: 3 };
  await call(EXT, { method: "POST", json: withRollback });
  const one = await call(`${EXT}/nginx-deployment`);
  expect(one.headers.get("Warning")).toBe(WARNING);
  const obj = await one.json();
  expect(obj.spec.rollbackTo).toEqual({ revision: 3 });
  expect(obj.metadata.annotations).toBeUndefined();

  const list = await (await call(EXT)).json();
  expect(list.kind).toBe("DeploymentList");
  expect(list.apiVersion).toBe("extensions/v1beta1");
  expect(list.items[0].apiVersion).toBe("extensions/v1beta1");

  const table = await (
    await call(`${EXT}?includeObject=Object`, {
      headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" },
    })
  ).json();
  expect(table.kind).toBe("Table");
  expect(table.rows[0].object.apiVersion).toBe("extensions/v1beta1");

  const patched = await call(`${EXT}/nginx-deployment`, {
    method: "PATCH",
    headers: { "Content-Type": "application/strategic-merge-patch+json" },
    body: JSON.stringify({ spec: { replicas: 3 } }),
  });
  expect(patched.status).toBe(200);
  expect(patched.headers.get("Warning")).toBe(WARNING);
  expect((await patched.json()).spec.replicas).toBe(3);

  const missing = await call(`${EXT}/nope`);
  expect(missing.status).toBe(404);
  expect(missing.headers.get("Warning")).toBe(WARNING);

  const deleted = await call(`${EXT}/nginx-deployment`, { method: "DELETE" });
  expect(deleted.status).toBe(200);
  expect(deleted.headers.get("Warning")).toBe(WARNING);
});

test("watch events carry the old apiVersion", async () => {
  await call(EXT, { method: "POST", json: article });
  const ctl = new AbortController();
  const res = await call(`${EXT}?watch=true&resourceVersion=0`, { signal: ctl.signal });
  expect(res.headers.get("Warning")).toBe(WARNING);
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("}\n")) text += new TextDecoder().decode((await reader.read()).value);
  ctl.abort();
  const event = JSON.parse(text.trim().split("\n")[0]!);
  expect(event.type).toBe("ADDED");
  expect(event.object.apiVersion).toBe("extensions/v1beta1");
});

test("discovery lists the old versions after apps/v1; OpenAPI v3 and v2 describe them", async () => {
  const agg = await (
    await call("/apis", { headers: { Accept: `${AGGREGATED_CONTENT_TYPE},application/json` } })
  ).json();
  const apps = agg.items.find((g: { metadata: { name: string } }) => g.metadata.name === "apps");
  expect(apps.versions.map((v: { version: string }) => v.version)).toEqual(["v1", "v1beta2", "v1beta1"]);
  const ext = agg.items.find((g: { metadata: { name: string } }) => g.metadata.name === "extensions");
  expect(ext.versions[0].resources[0].resource).toBe("deployments");
  expect((await (await call("/apis/extensions")).json()).preferredVersion.version).toBe("v1beta1");

  const index = await (await call("/openapi/v3")).json();
  const url = index.paths["apis/extensions/v1beta1"].serverRelativeURL;
  const doc = await (await call(url)).json();
  const patch = doc.paths["/apis/extensions/v1beta1/namespaces/{namespace}/deployments/{name}"].patch;
  expect(patch.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
  const spec = doc.components.schemas["io.k8s.api.extensions.v1beta1.DeploymentSpec"];
  expect(spec.properties.rollbackTo).toBeDefined();
  expect(spec.properties.strategy.allOf[0].$ref).toBe(
    "#/components/schemas/io.k8s.api.extensions.v1beta1.DeploymentStrategy",
  );

  const v2 = await (await call("/openapi/v2", { headers: { Accept: "application/json" } })).json();
  expect(v2.swagger).toBe("2.0");
  const root = v2.definitions["io.k8s.api.extensions.v1beta1.Deployment"];
  expect(root["x-kubernetes-group-version-kind"]).toEqual([
    { group: "extensions", version: "v1beta1", kind: "Deployment" },
  ]);
  expect(JSON.stringify(v2)).not.toContain("#/components/schemas/");
  expect(
    v2.paths["/api/v1/namespaces/{namespace}/pods/{name}"].get["x-kubernetes-group-version-kind"],
  ).toEqual({ group: "", version: "v1", kind: "Pod" });
  const proto = await call("/openapi/v2", {
    headers: { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
  });
  expect(proto.headers.get("Content-Type")).toContain("protobuf");
});
