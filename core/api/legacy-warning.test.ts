import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";

const auth = { Authorization: "Bearer t", "Content-Type": "application/json" };
let store: Store;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  app = createApiServer({ client, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

describe("legacy apiVersions through the API", () => {
  test("a legacy extensions/v1beta1 Deployment is stored as apps/v1 with a Warning header", async () => {
    const res = await app.request("/apis/apps/v1/namespaces/default/deployments", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        apiVersion: "extensions/v1beta1",
        kind: "Deployment",
        metadata: { name: "legacy" },
        spec: {
          replicas: 1,
          template: { metadata: { labels: { app: "l" } }, spec: { containers: [{ name: "c", image: "i" }] } },
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Warning")).toBe(
      '299 - "extensions/v1beta1 Deployment is deprecated in v1.9+, unavailable in v1.16+; use apps/v1 Deployment"',
    );
    const body = await res.json();
    expect(body.apiVersion).toBe("apps/v1");
    expect(body.spec.selector).toEqual({ matchLabels: { app: "l" } });
  });
});
