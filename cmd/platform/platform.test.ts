import { afterEach, describe, expect, test } from "bun:test";
import { connect, createServer, type Server } from "node:net";
import { platform } from "./index.ts";
import type { RunningServer, TcpRelay } from "./platform.ts";
import { echoApp } from "./testing/echo-app.ts";

/** The platform adapter minik runs on (this file runs under `bun test` and under scripts/deno-test). */
describe(`platform (${"Deno" in globalThis ? "deno" : "bun"})`, () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test("is the runtime it runs on; only Bun runs the node half", () => {
    expect(platform.name).toBe("Deno" in globalThis ? "deno" : "bun");
    expect(platform.nodeRuntime).toBe(platform.name === "bun");
  });

  test("serves the app over HTTP and binds WebSocket upgrades to the Socket seam", async () => {
    const server: RunningServer = platform.serve(echoApp(), { hostname: "127.0.0.1", port: 0 });
    cleanups.push(() => server.stop());
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await (await fetch(`${server.url}/hello`)).text()).toBe("hello, loopback=true");

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/echo`, "echo.minik");
    ws.binaryType = "arraybuffer";
    const reply = await new Promise<Uint8Array>((resolve, reject) => {
      ws.onopen = () => ws.send(new Uint8Array([1, 2, 3]));
      ws.onmessage = (e) => resolve(new Uint8Array(e.data as ArrayBuffer));
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    expect(ws.protocol).toBe("echo.minik");
    expect([...reply]).toEqual([3, 2, 1]);
    ws.close();
  });

  test("relays TCP connections to a target (port-forward)", async () => {
    const echo: Server = createServer((s) => s.on("data", (d) => s.write(`echo:${d}`)));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => echo.close(r)));
    const target = { hostname: "127.0.0.1", port: (echo.address() as { port: number }).port };
    const relay: TcpRelay = platform.relayTcp({ hostname: "127.0.0.1", port: 0 }, target);
    cleanups.push(() => relay.stop());
    expect(relay.port).toBeGreaterThan(0);

    const client = connect(relay.port, "127.0.0.1");
    cleanups.push(() => client.destroy());
    const answer = await new Promise<string>((resolve, reject) => {
      client.on("connect", () => client.write("ping"));
      client.on("data", (d) => resolve(String(d)));
      client.on("error", reject);
    });
    expect(answer).toBe("echo:ping");
  });

  test("sleeps", async () => {
    const t = performance.now();
    await platform.sleep(20);
    expect(performance.now() - t).toBeGreaterThanOrEqual(15);
  });
});
