import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { CSRF_HEADER, createSessions } from "./sessions.ts";

describe("session lifetimes", () => {
  test("a session ends after the idle limit without use, and at the absolute limit however used", () => {
    let now = 0;
    const sessions = createSessions({ idleMs: 100, absoluteMs: 250, now: () => now });
    const a = sessions.open();
    now = 90;
    expect(sessions.use(a.id)?.id).toBe(a.id);
    now = 180; // 90 ms after the last use: still within idle
    expect(sessions.use(a.id)).toBeDefined();
    now = 240;
    expect(sessions.use(a.id)).toBeDefined();
    now = 251; // used 11 ms ago, but past the absolute limit
    expect(sessions.use(a.id)).toBeUndefined();
    const b = sessions.open();
    now = 352; // idle for 101 ms
    expect(sessions.use(b.id)).toBeUndefined();
    expect(sessions.use("forged")).toBeUndefined();
  });
});

let store: Store;
let app: ReturnType<typeof createApiServer>;
let now = 1_000;
beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  now = 1_000;
  app = createApiServer({
    client,
    store,
    auth: { token: "t", sessions: { idleMs: 60_000, absoluteMs: 600_000, now: () => now } },
  });
});
afterEach(async () => {
  await store.close();
});

async function login(origin: string): Promise<string> {
  const link = await (
    await app.request(`${origin}/minik/v1/login-links`, {
      method: "POST",
      headers: { Authorization: "Bearer t" },
    })
  ).json();
  const res = await app.request(`${origin}${link.url}`);
  expect(res.status).toBe(302);
  return res.headers.get("Set-Cookie")!;
}

const cm = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });

describe("the dashboard cookie", () => {
  test("over TLS it is __Host- prefixed and Secure; the plain name is not accepted there", async () => {
    const origin = "https://127.0.0.1:7443";
    const setCookie = await login(origin);
    expect(setCookie).toMatch(/^__Host-minik_session=[0-9a-f]+; Path=\/; Secure; HttpOnly; SameSite=Strict$/);
    const value = setCookie.split(";")[0]!.split("=")[1]!;
    const read = (cookie: string) =>
      app.request(`${origin}/api/v1/namespaces`, { headers: { Cookie: cookie } });
    expect((await read(`__Host-minik_session=${value}`)).status).toBe(200);
    expect((await read(`minik_session=${value}`)).status).toBe(401);
  });

  test("a write with the cookie needs the session's CSRF token; reads do not", async () => {
    const origin = "http://127.0.0.1:7080";
    const cookie = (await login(origin)).split(";")[0]!;
    const session = await (
      await app.request(`${origin}/minik/v1/session`, { headers: { Cookie: cookie } })
    ).json();
    expect(session).toMatchObject({ kind: "Session", via: "session" });
    expect(session.csrfToken).toMatch(/^[0-9a-f]{48}$/);
    const write = (headers: Record<string, string>) =>
      app.request(`${origin}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { Cookie: cookie, "Content-Type": "application/json", ...headers },
        body: cm(`c${Object.keys(headers).length}`),
      });
    const refused = await write({});
    expect(refused.status).toBe(403);
    expect((await refused.json()).message).toContain(CSRF_HEADER);
    expect((await write({ [CSRF_HEADER]: "0".repeat(48), Origin: origin })).status).toBe(403);
    expect((await write({ [CSRF_HEADER]: session.csrfToken, Origin: origin, "X-Two": "" })).status).toBe(201);
  });

  test("a cross-site POST with the cookie and the right token is still refused by its Origin", async () => {
    const origin = "http://127.0.0.1:7080";
    const cookie = (await login(origin)).split(";")[0]!;
    const { csrfToken } = await (
      await app.request(`${origin}/minik/v1/session`, { headers: { Cookie: cookie } })
    ).json();
    const res = await app.request(`${origin}/api/v1/namespaces/default/configmaps`, {
      method: "POST",
      headers: {
        Cookie: cookie,
        [CSRF_HEADER]: csrfToken,
        "Content-Type": "application/json",
        Origin: "https://evil.example",
        "Sec-Fetch-Site": "cross-site",
      },
      body: cm("evil"),
    });
    expect(res.status).toBe(403);
  });

  test("the session expires when idle, and absolutely", async () => {
    const origin = "http://127.0.0.1:7080";
    const read = (cookie: string) =>
      app.request(`${origin}/api/v1/namespaces`, { headers: { Cookie: cookie } });
    const idle = (await login(origin)).split(";")[0]!;
    now += 59_000;
    expect((await read(idle)).status).toBe(200);
    now += 61_000;
    expect((await read(idle)).status).toBe(401);
    const busy = (await login(origin)).split(";")[0]!;
    for (let i = 0; i < 12; i++) {
      now += 50_000;
      expect((await read(busy)).status).toBe(200);
    }
    now += 50_000; // 650 s after login
    expect((await read(busy)).status).toBe(401);
  });
});
