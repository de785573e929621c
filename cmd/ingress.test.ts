import { afterEach, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createSelfSignedCertificate } from "../core/api/tls-certificate.ts";
import { addRoute, emptyRouteTable, sortRoutes } from "../core/network/ingress-match.ts";
import type { BackendTarget } from "../core/network/ingress-routes.ts";
import { type NodeIngress, parseIngressAddress, startNodeIngress } from "./ingress.ts";
import { platform } from "./platform/index.ts";
import { echoApp } from "./platform/testing/echo-app.ts";

const testOnBun = "Bun" in globalThis ? test : test.skip;

describe("the node's ingress listeners", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test("--ingress-http/--ingress-https take host:port or off; anything else names the flag", () => {
    expect(parseIngressAddress("--ingress-http", "127.0.0.1:8080")).toEqual({
      hostname: "127.0.0.1",
      port: 8080,
    });
    expect(parseIngressAddress("--ingress-https", "[::1]:8443")).toEqual({ hostname: "::1", port: 8443 });
    expect(parseIngressAddress("--ingress-http", "off")).toBeUndefined();
    expect(() => parseIngressAddress("--ingress-http", "8080")).toThrow(
      'invalid --ingress-http "8080": use host:port (e.g. 127.0.0.1:8080) or off',
    );
    expect(() => parseIngressAddress("--ingress-https", "127.0.0.1:99999")).toThrow(/--ingress-https/);
  });

  /** A pod stand-in on loopback: HTTP echo of the forwarded headers, and a WebSocket that reverses bytes. */
  function fakePod() {
    const pod = platform.serve(echoApp(), { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => pod.stop());
    return pod;
  }

  async function ingressTo(port: number): Promise<NodeIngress> {
    const ingress = await startNodeIngress({ hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => ingress.listeners.stop());
    const routes = emptyRouteTable<BackendTarget>();
    addRoute(routes, "", {
      path: "/",
      pathType: "Prefix",
      backend: { key: "default/pod:80", endpoints: [{ ip: "127.0.0.1", port }] },
    });
    sortRoutes(routes);
    ingress.router.setTable({ routes, certificates: [] });
    return ingress;
  }

  test("serves HTTP through the platform's server to the pod", async () => {
    const pod = fakePod();
    const ingress = await ingressTo(pod.port);
    const url = ingress.urls[0]!;
    const r = await fetch(`${url}/hello`, { headers: { host: "web.test" } });
    const text = await r.text();
    expect(text).toStartWith("hello http ");
    // Deno's fetch does not let a caller set Host, so only Bun's forward keeps the client's
    if ("Bun" in globalThis) expect(text).toBe("hello http web.test");
    expect(ingress.listeners.address).toBe("127.0.0.1");
  });

  testOnBun("relays a WebSocket to the pod, with the subprotocol the pod chose", async () => {
    const pod = fakePod();
    const ingress = await ingressTo(pod.port);
    const ws = new WebSocket(`${ingress.urls[0]!.replace("http", "ws")}/echo`, ["echo.minik"]);
    cleanups.push(() => ws.close());
    ws.binaryType = "arraybuffer";
    const reply = await new Promise<Uint8Array>((resolve, reject) => {
      ws.onopen = () => ws.send(new Uint8Array([1, 2, 3]));
      ws.onmessage = (e) => resolve(new Uint8Array(e.data as ArrayBuffer));
      ws.onerror = () => reject(new Error("websocket through the ingress failed"));
    });
    expect([...reply]).toEqual([3, 2, 1]);
    expect(ws.protocol).toBe("echo.minik");
  });

  testOnBun("new certificates replace the HTTPS listener without cutting a response in flight", async () => {
    // a pod whose answer waits for the test: half of it is read before the swap, the rest after
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowApp = new Hono();
    slowApp.get("/slow", () => {
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          c.enqueue(new TextEncoder().encode("first,"));
          await gate;
          c.enqueue(new TextEncoder().encode("second"));
          c.close();
        },
      });
      return new Response(body);
    });
    const pod = platform.serve(slowApp, { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => pod.stop());
    const ingress = await startNodeIngress(undefined, { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => ingress.listeners.stop());
    const routes = emptyRouteTable<BackendTarget>();
    addRoute(routes, "", {
      path: "/",
      pathType: "Prefix",
      backend: { key: "default/slow:80", endpoints: [{ ip: "127.0.0.1", port: pod.port }] },
    });
    sortRoutes(routes);
    ingress.router.setTable({ routes, certificates: [] });
    const url = ingress.urls[0]!;
    const insecure = { tls: { rejectUnauthorized: false } } as RequestInit;

    const res = await fetch(`${url}/slow`, insecure);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("first,");
    const cert = await createSelfSignedCertificate({ dnsNames: ["one.test"] });
    await ingress.listeners.setCertificates([{ serverName: "one.test", ...cert }]);
    release();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe("second");
    // and the port still takes new connections, now from the new listener
    const fresh = { ...insecure, keepalive: false, headers: { connection: "close" } };
    expect(await (await fetch(`${url}/slow`, fresh)).text()).toBe("first,second");
  });

  testOnBun("a WebSocket to a pod that refuses it is answered 502", async () => {
    const pod = fakePod();
    const ingress = await ingressTo(pod.port);
    const r = await fetch(`${ingress.urls[0]}/hello`, {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    expect(r.status).toBe(502);
    expect(await r.text()).toContain("did not accept the WebSocket");
  });
});
