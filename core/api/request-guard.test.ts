import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";

let store: Store;
let app: ReturnType<typeof createApiServer>;
let anonymous: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  app = createApiServer({ client, auth: { token: "t" } });
  anonymous = createApiServer({ client, auth: { token: "t", anonymous: true } });
});
afterEach(async () => {
  await store.close();
});

const ORIGIN = "http://127.0.0.1:7080";
const CMS = `${ORIGIN}/api/v1/namespaces/default/configmaps`;
const cm = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
const anon = (url: string, init: RequestInit = {}) => anonymous.request(url, init, { loopback: true });
const stored = async (name: string) =>
  (await app.request(`${CMS}/${name}`, { headers: { Authorization: "Bearer t" } })).status === 200;

describe("cross-site requests on an --anonymous loopback listener", () => {
  test("a same-origin or typed-URL write is let in", async () => {
    const res = await anon(CMS, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: ORIGIN, "Sec-Fetch-Site": "same-origin" },
      body: cm("ok"),
    });
    expect(res.status).toBe(201);
  });

  test("Origin of another site, or of another port on 127.0.0.1 (a NodePort app), is 403 and stores nothing", async () => {
    for (const [i, origin] of ["https://evil.example", "http://127.0.0.1:30080", "null"].entries()) {
      const res = await anon(CMS, {
        method: "POST",
        headers: { "Content-Type": "application/json", Origin: origin },
        body: cm(`x${i}`),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ kind: "Status", reason: "Forbidden" });
      expect(await stored(`x${i}`)).toBe(false);
    }
  });

  test("Sec-Fetch-Site cross-site or same-site is 403, reads included", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const res = await anon(CMS, { headers: { "Sec-Fetch-Site": site } });
      expect(res.status).toBe(403);
    }
  });

  test("a cross-site WebSocket upgrade (exec) is refused before it reaches the handler", async () => {
    const res = await anon(
      `${ORIGIN}/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&stdout=true`,
      { headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: "https://evil.example" } },
    );
    expect(res.status).toBe(403);
  });

  test("a write without Content-Type or with a form type is 415 (the no-preflight fetch a page can send)", async () => {
    for (const [i, type] of [
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
    ].entries()) {
      const headers: Record<string, string> = type ? { "Content-Type": type } : {};
      const res = await anon(CMS, { method: "POST", headers, body: cm(`f${i}`) });
      expect(res.status).toBe(415);
      expect(await stored(`f${i}`)).toBe(false);
    }
  });
});

describe("bearer-token requests", () => {
  test("skip the browser checks: a foreign page cannot attach a token, and a body without Content-Type is JSON (kubectl's PUT …/scale)", async () => {
    const res = await app.request(CMS, {
      method: "POST",
      headers: { Authorization: "Bearer t", Origin: "https://evil.example" },
      // bytes, not a string: a string body would get Content-Type text/plain from the Request itself
      body: new TextEncoder().encode(cm("tok")),
    });
    expect(res.status).toBe(201);
  });
});

describe("malformed URLs", () => {
  test("bad percent-encoding in the path or the query is a 400 Status, authenticated or not", async () => {
    for (const path of [
      "/api/v1/namespaces/%zz/configmaps",
      "/api/v1/namespaces/default/configmaps?labelSelector=%E0%A4%A",
      "/apis/%/v1",
    ]) {
      for (const headers of [{ Authorization: "Bearer t" }, {}] as Record<string, string>[]) {
        const res = await app.request(`${ORIGIN}${path}`, { headers });
        expect(res.status).toBe(400);
        expect((await res.json()).kind).toBe("Status");
      }
    }
  });
});
