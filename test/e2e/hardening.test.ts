import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { waitFor } from "../support/env.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

/** The daemon's resident memory, from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

/** One raw HTTP request over TCP; resolves with the status line (or "" when closed without one). */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      if (data.includes("\r\n")) {
        socket.destroy();
        resolve(data.split("\r\n")[0]!);
      }
    });
    socket.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
    socket.on("error", reject);
  });
}

const portOf = (d: Daemon) => Number(new URL(d.url).port);

/**
 * Issue 14 through the compiled binary: hostile input answers 4xx, cross-site writes and
 * WebSockets are refused, a paused watcher is cut off with memory bounded, and a 100,000-replica
 * Deployment leaves the API responsive.
 */
describe.skipIf(!existsSync(BINARY))("compiled binary: hardening", () => {
  let d: Daemon;
  let token: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  beforeAll(async () => {
    d = await startDaemon(["--runtime", "none"]);
    token = readFileSync(join(d.dataDir, "token"), "utf8").trim();
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    removeDir(d?.dataDir);
  });

  test("the 99× alias YAML body (1 MB scalar) is refused, nothing stored, memory flat", async () => {
    const before = rssMiB(d.proc.pid);
    const big = "x".repeat(1_000_000);
    const aliases = Array.from({ length: 98 }, (_, i) => `  k${i}: *a`).join("\n");
    const body = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a: &a ${big}\n${aliases}\n`;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${d.url}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/yaml" },
        body,
      });
      expect(res.status).toBe(413);
      expect((await res.json()).kind).toBe("Status");
    }
    const get = await fetch(`${d.url}/api/v1/namespaces/default/configmaps/bomb`, { headers: auth() });
    expect(get.status).toBe(404);
    expect(rssMiB(d.proc.pid) - before).toBeLessThan(100);
  });

  test("HTTP/1.0 without Host and bad percent-encoding answer 4xx, not 500", async () => {
    const port = portOf(d);
    expect(await rawRequest(port, "GET /version HTTP/1.0\r\n\r\n")).toMatch(/^HTTP\/1\.[01] 200/);
    expect(await rawRequest(port, "GET /api/v1/namespaces/%zz/pods HTTP/1.0\r\n\r\n")).toMatch(
      /^HTTP\/1\.[01] 4\d\d/,
    );
    expect(await rawRequest(port, "GET /api/v1/pods HTTP/1.1\r\nHost: a b\r\n\r\n")).toMatch(
      /^HTTP\/1\.[01] 4\d\d/,
    );
  });

  test("a cross-site POST with the dashboard session is refused; the same write from the page's origin with its CSRF token lands; the login cookie opens nothing", async () => {
    const link = await (
      await fetch(`${d.url}/minik/v1/login-links`, { method: "POST", headers: auth() })
    ).json();
    const login = await fetch(`${d.url}${link.url}`, { redirect: "manual" });
    const cookie = login.headers.get("Set-Cookie")!.split(";")[0]!;
    const session = login.headers.get("Location")!.replace("/#minik-session=", "");
    const cm = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    const post = (headers: Record<string, string>, name: string) =>
      fetch(`${d.url}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { Cookie: cookie, "X-Minik-Session": session, ...headers },
        body: cm(name),
      });
    // the cookie (the one every port of 127.0.0.1 gets) is the first paint's one-time code only
    for (const path of ["/api/v1/namespaces/default/configmaps", "/minik/v1/dashboard/session"])
      expect((await fetch(`${d.url}${path}`, { headers: { Cookie: cookie } })).status).toBe(401);
    // what a page on another site can send: a form-ish Content-Type, its own Origin
    expect(
      (await post({ "Content-Type": "text/plain", Origin: "https://evil.example" }, "evil1")).status,
    ).toBe(403);
    expect((await post({ "Content-Type": "text/plain" }, "evil2")).status).toBe(415);
    expect((await post({ "Content-Type": "application/json" }, "evil3")).status).toBe(403); // no CSRF token
    const { csrfToken } = await (
      await fetch(`${d.url}/minik/v1/dashboard/session`, { headers: { "X-Minik-Session": session } })
    ).json();
    const ok = await post(
      { "Content-Type": "application/json", "X-CSRF-Token": csrfToken, Origin: d.url },
      "fine",
    );
    expect(ok.status).toBe(201);
    for (const name of ["evil1", "evil2", "evil3"]) {
      expect(
        (await fetch(`${d.url}/api/v1/namespaces/default/configmaps/${name}`, { headers: auth() })).status,
      ).toBe(404);
    }
  });

  test("a watcher that stops reading is closed and the daemon's memory stays bounded", async () => {
    const port = portOf(d);
    const socket = connect(port, "127.0.0.1");
    let ended = false;
    let received = 0;
    socket.on("data", (c) => {
      received += c.length;
    });
    socket.on("end", () => {
      ended = true;
    });
    socket.on("close", () => {
      ended = true;
    });
    await new Promise<void>((r) => socket.on("connect", () => r()));
    socket.write(
      `GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    await waitFor(() => received > 0, { what: "the watch headers" });
    socket.pause();
    const before = rssMiB(d.proc.pid);
    // 160 MiB of events (1 MiB objects created and deleted again, so the store itself stays small)
    // for a watcher that reads nothing; the bound is 8 MiB plus socket buffers
    const value = "v".repeat(1024 * 1024);
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${d.url}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/json" },
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `big-${i}` },
          data: { v: value },
        }),
      });
      expect(res.status).toBe(201);
      const del = await fetch(`${d.url}/api/v1/namespaces/default/configmaps/big-${i}`, {
        method: "DELETE",
        headers: auth(),
      });
      expect(del.status).toBe(200);
    }
    const grown = rssMiB(d.proc.pid) - before;
    socket.resume();
    await waitFor(() => ended, { what: "the server to close the paused watch", timeoutMs: 20_000 });
    socket.destroy();
    console.log(`paused watcher: daemon RSS +${grown.toFixed(0)} MiB for 160 MiB of unread events`);
    expect(received).toBeLessThan(40 * 1024 * 1024);
    expect(grown).toBeLessThan(150);
  }, 60_000);

  test("a 100,000-replica Deployment: /readyz and reads stay fast, memory is reported, pods wait with a reason", async () => {
    const deploy = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "huge" },
      spec: {
        replicas: 100_000,
        selector: { matchLabels: { app: "huge" } },
        template: {
          metadata: { labels: { app: "huge" } },
          spec: { containers: [{ name: "a", image: "nginx" }] },
        },
      },
    };
    const created = await fetch(`${d.url}/apis/apps/v1/namespaces/default/deployments`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify(deploy),
    });
    expect(created.status).toBe(201);
    const latencies: number[] = [];
    const started = performance.now();
    while (performance.now() - started < 15_000) {
      for (const path of ["/readyz", "/api/v1/namespaces/default"]) {
        const t = performance.now();
        const res = await fetch(`${d.url}${path}`, { headers: auth() });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
        latencies.push(performance.now() - t);
      }
      await Bun.sleep(20);
    }
    const sorted = latencies.toSorted((a, b) => a - b);
    const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
    const rs = await (
      await fetch(`${d.url}/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dhuge`, {
        headers: auth(),
      })
    ).json();
    console.log(
      `100,000 replicas: ${latencies.length} requests in 15 s, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ${rs.items[0]?.status?.replicas ?? 0} pods so far; daemon RSS ${rssMiB(d.proc.pid).toFixed(0)} MiB`,
    );
    // the in-process test (core/controllers/bounded-pods.test.ts) holds p99 < 100 ms; through the
    // binary and a client on the same shared 2-core machine, leave room for the machine's load
    expect(p99).toBeLessThan(250);
    // an int32 beyond range is refused outright
    const tooMany = await fetch(`${d.url}/apis/apps/v1/namespaces/default/deployments`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({
        ...deploy,
        metadata: { name: "toomany" },
        spec: { ...deploy.spec, replicas: 2 ** 31 },
      }),
    });
    expect(tooMany.status).toBe(400);
  }, 60_000);
});

describe.skipIf(!existsSync(BINARY))("compiled binary: --anonymous", () => {
  test("a cross-site WebSocket upgrade (exec) is refused; the same-origin one reaches the handler", async () => {
    const anon = await startDaemon(["--runtime", "none", "--anonymous"]);
    try {
      const port = portOf(anon);
      const upgrade = (origin: string) =>
        rawRequest(
          port,
          `GET /api/v1/namespaces/default/pods/nope/exec?command=sh&stdout=true HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\nOrigin: ${origin}\r\n\r\n`,
        );
      expect(await upgrade("https://evil.example")).toMatch(/^HTTP\/1\.1 403/);
      expect(await upgrade("http://127.0.0.1:30080")).toMatch(/^HTTP\/1\.1 403/);
      // same origin: past the guard, to the handler (no pod, no node services without a runtime)
      expect(await upgrade(`http://127.0.0.1:${port}`)).toMatch(/^HTTP\/1\.1 (404|503)/);
    } finally {
      await anon.stop();
      removeDir(anon.dataDir);
    }
  }, 30_000);

  test("--anonymous with a listener off loopback does not start", async () => {
    const p = Bun.spawn(
      [
        BINARY,
        "up",
        "--listen",
        "127.0.0.1:0",
        "--listen-tls",
        "0.0.0.0:0",
        "--anonymous",
        "--runtime",
        "none",
        "--data-dir",
        "/nonexistent/minik-never-created",
      ],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).not.toBe(0);
    expect(stderr).toContain("--anonymous is only allowed on loopback addresses, not 0.0.0.0");
  }, 30_000);
});
