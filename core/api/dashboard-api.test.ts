import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Registry } from "../registry/registry.ts";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { SESSION_HEADER, SESSION_PROTOCOL_PREFIX } from "./auth.ts";
import { createDashboardApi, SESSION_ENDED } from "./dashboard-api.ts";
import { createSessions, type Sessions } from "./dashboard-session.ts";
import { DASHBOARD_PROTOCOL, parseKinds, type StreamMessage } from "./dashboard-stream.ts";
import type { ServerEnv, Socket, SocketHandler } from "./socket.ts";

const TOKEN = "s3cret";
let store: Store;
let registry: Registry;
let sessions: Sessions;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store);
  await registry.bootstrap();
  sessions = createSessions(TOKEN, { idleMs: 60_000, lifetimeMs: 600_000 });
  app = createApiServer({
    client: registry,
    auth: { token: TOKEN, sessions },
    routes: [createDashboardApi({ client: registry, sessions })],
  });
});
afterEach(async () => {
  await store.close();
});

/** A socket that records what the stream sends, decoded. */
function recordingSocket() {
  const messages: StreamMessage[] = [];
  const closes: (() => void)[] = [];
  let closed: number | undefined;
  const socket: Socket = {
    send: (data) => messages.push(JSON.parse(new TextDecoder().decode(data))),
    close: (code = 1000) => {
      closed = code;
      for (const c of closes) c();
    },
    onMessage: () => {},
    onClose: (l) => closes.push(l),
  };
  return { socket, messages, closed: () => closed, hangUp: () => socket.close(1001) };
}

async function openStream(query: string, headers: Record<string, string> = {}) {
  let handler: SocketHandler | undefined;
  const env: ServerEnv = {
    upgrade: (_req, _p, h) => {
      handler = h;
      return new Response(null, { status: 101 });
    },
  };
  const res = await app.request(
    `/minik/v1/dashboard/stream?kinds=${query}`,
    {
      headers: {
        Upgrade: "websocket",
        "Sec-WebSocket-Protocol": DASHBOARD_PROTOCOL,
        Host: "localhost",
        ...headers,
      },
    },
    env,
  );
  const s = recordingSocket();
  if (handler) handler(s.socket);
  return { res, ...s };
}

const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "busybox" }] },
});

describe("the dashboard stream", () => {
  test("one socket carries a reset per kind, then every kind's events", async () => {
    await registry.create("pods", pod("a"));
    const s = await openStream("pods,nodes", { Authorization: `Bearer ${TOKEN}` });
    expect(s.res.status).toBe(101);
    await waitFor(() => s.messages.filter((m) => m.t === "reset").length === 2);
    const resets = s.messages.flatMap((m) => (m.t === "reset" ? [m.kind] : []));
    expect(resets.sort()).toEqual(["nodes", "pods"]);
    await registry.create("pods", pod("b"));
    await registry.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    await waitFor(() => s.messages.filter((m) => m.t === "event").length >= 2);
    const events = s.messages.filter((m) => m.t === "event");
    expect(events.map((m) => m.t === "event" && `${m.kind}/${m.type}/${m.object.metadata.name}`)).toEqual([
      "pods/ADDED/b",
      "nodes/ADDED/n1",
    ]);
    s.hangUp();
  });

  test("a resumed kind gets only what changed since its resourceVersion; an unknown one a reset", async () => {
    const a = await registry.create("pods", pod("a") as KubeObject);
    await registry.create("pods", pod("b"));
    await registry.delete("pods", "default", "a", { gracePeriodSeconds: 0 });
    const s = await openStream(`pods:${a.metadata.resourceVersion}`, { Authorization: `Bearer ${TOKEN}` });
    await waitFor(() => s.messages.some((m) => m.t === "event" && m.type === "DELETED"));
    expect(s.messages.some((m) => m.t === "reset")).toBe(false);
    expect(s.messages.some((m) => m.t === "event" && m.object.metadata.name === "b")).toBe(true);
    s.hangUp();
    // a version this store never reached (a reset data dir) is Expired, like a compacted one
    const old = await openStream("pods:999999", { Authorization: `Bearer ${TOKEN}` });
    await waitFor(() => old.messages.some((m) => m.t === "reset"));
    old.hangUp();
  });

  test("secrets travel without their values", async () => {
    await registry.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "pw", namespace: "default" },
      data: { password: btoa("hunter2") },
    });
    const s = await openStream("secrets", { Authorization: `Bearer ${TOKEN}` });
    const reset = await waitFor(() => s.messages.find((m) => m.t === "reset"));
    expect(JSON.stringify(reset)).not.toContain(btoa("hunter2"));
    expect(reset.t === "reset" && reset.items[0]!.keys).toEqual(["password"]);
    s.hangUp();
  });

  test("only this origin may open it, and only as a WebSocket", async () => {
    const cross = await openStream("pods", {
      Authorization: `Bearer ${TOKEN}`,
      Origin: "http://evil.example",
    });
    expect(cross.res.status).toBe(403);
    const plain = await app.request("/minik/v1/dashboard/stream", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(plain.status).toBe(400);
    expect((await openStream("pods")).res.status).toBe(401);
  });

  test("a session's stream (the session offered as a subprotocol) closes with 4401 when the session ends", async () => {
    const short = createSessions(TOKEN, { idleMs: 50, lifetimeMs: 1000 });
    app = createApiServer({
      client: registry,
      auth: { token: TOKEN, sessions: short },
      routes: [createDashboardApi({ client: registry, sessions: short })],
    });
    const s = await openStream("pods", {
      "Sec-WebSocket-Protocol": `${DASHBOARD_PROTOCOL}, ${SESSION_PROTOCOL_PREFIX}${short.issue()}`,
    });
    expect(s.res.status).toBe(101);
    expect(await waitFor(() => s.closed())).toBe(SESSION_ENDED);
  });

  test("unknown kinds are dropped; resume versions must be numbers", () => {
    expect([...parseKinds("pods:12,bogus,deployments.apps:x,nodes")]).toEqual([
      ["pods", "12"],
      ["deployments.apps", undefined],
      ["nodes", undefined],
    ]);
  });
});

describe("the dashboard session endpoints", () => {
  test("the session answer carries the CSRF token and the refreshed session, no cookie; logout ends it", async () => {
    const value = sessions.issue(Date.now() - 30_000);
    const header = { [SESSION_HEADER]: value };
    const res = await app.request("/minik/v1/dashboard/session", { headers: header });
    const body = await res.json();
    const session = sessions.verify(value)!;
    expect(body.csrfToken).toBe(sessions.csrfToken(session));
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(session.expiresAt);
    expect(sessions.verify(body.session)?.id).toBe(session.id);
    expect(res.headers.get("Set-Cookie")).toBeNull(); // plain HTTP: a cookie would reach every port

    const withoutToken = await app.request("/minik/v1/dashboard/logout", { method: "POST", headers: header });
    expect(withoutToken.status).toBe(403);
    const out = await app.request("/minik/v1/dashboard/logout", {
      method: "POST",
      headers: { ...header, "X-CSRF-Token": body.csrfToken },
    });
    expect(out.status).toBe(200);
    expect((await app.request("/api/v1/pods", { headers: header })).status).toBe(401);
  });

  test("a bearer-token caller gets no CSRF token (it needs none)", async () => {
    const res = await app.request("/minik/v1/dashboard/session", {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect((await res.json()).csrfToken).toBeNull();
  });
});
