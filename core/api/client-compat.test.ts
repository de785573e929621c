import { afterEach, beforeEach, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { legacyWatchPath } from "./legacy-watch.ts";
import { queryFlag } from "./options.ts";

let store: Store;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const registry = createRegistry(store);
  await registry.bootstrap();
  await registry.create("configmaps", {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cm", namespace: "default" },
    data: { a: "1" },
  });
  app = createApiServer({ client: registry, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

const get = (path: string, signal?: AbortSignal) =>
  app.request(path, { headers: { Authorization: "Bearer t" }, signal });

/** The first watch event of a streaming answer. */
async function firstEvent(path: string): Promise<{ type: string; object: { metadata: { name: string } } }> {
  const ctl = new AbortController();
  const res = await get(path, ctl.signal);
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes("}\n")) text += new TextDecoder().decode((await reader.read()).value);
  ctl.abort();
  return JSON.parse(text.trim().split("\n")[0]!);
}

test("boolean query parameters are read as kube-apiserver reads them", () => {
  for (const v of ["true", "True", "TRUE", "1", "t", "yes", ""]) expect(queryFlag(v)).toBe(true);
  for (const v of ["false", "False", "FALSE", "0"]) expect(queryFlag(v)).toBe(false);
  expect(queryFlag(null)).toBe(false);
});

test("the Python client's watch=True watches; watch=False lists", async () => {
  const event = await firstEvent("/api/v1/namespaces/default/configmaps?watch=True");
  expect(event.type).toBe("ADDED");
  expect(event.object.metadata.name).toBe("cm");
  const list = await (await get("/api/v1/namespaces/default/configmaps?watch=False")).json();
  expect(list.kind).toBe("ConfigMapList");
});

test("/version/ answers like /version, without credentials", async () => {
  const res = await app.request("/version/");
  expect(res.status).toBe(200);
  expect((await res.json()).major).toBe("1");
});

test("the deprecated /watch/ paths stream the same events", async () => {
  expect(legacyWatchPath("/api/v1/watch/pods")).toBe("/api/v1/pods");
  expect(legacyWatchPath("/apis/apps/v1/watch/namespaces/a/deployments/b")).toBe(
    "/apis/apps/v1/namespaces/a/deployments/b",
  );
  expect(legacyWatchPath("/api/v1/pods")).toBeUndefined();
  for (const path of [
    "/api/v1/watch/configmaps",
    "/api/v1/watch/namespaces/default/configmaps",
    "/api/v1/watch/namespaces/default/configmaps/cm",
  ]) {
    const event = await firstEvent(path);
    expect(event).toMatchObject({ type: "ADDED", object: { metadata: { name: "cm" } } });
  }
});
