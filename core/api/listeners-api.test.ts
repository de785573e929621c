import { describe, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import { createApiServer } from "./app.ts";
import { createListenersApi, type Listeners } from "./listeners-api.ts";

describe("GET /minik/v1/listeners", () => {
  test("reports the listeners once they are up, behind the token", async () => {
    const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
    try {
      let listeners: Listeners | undefined;
      const app = createApiServer({
        client: createRegistry(store),
        auth: { token: "t" },
        routes: [createListenersApi(() => listeners)],
      });
      const auth = { Authorization: "Bearer t" };
      expect((await app.request("/minik/v1/listeners")).status).toBe(401);
      const early = await app.request("/minik/v1/listeners", { headers: auth });
      expect(early.status).toBe(503);
      expect((await early.json()).reason).toBe("ServiceUnavailable");
      listeners = { http: "http://127.0.0.1:7080", https: "https://127.0.0.1:7443", certificate: "PEM" };
      const res = await app.request("/minik/v1/listeners", { headers: auth });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ kind: "Listeners", apiVersion: "minik/v1", ...listeners });
    } finally {
      await store.close();
    }
  });
});
