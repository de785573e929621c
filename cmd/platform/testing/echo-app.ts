import { Hono } from "hono";
import type { ServerEnv } from "../../../core/api/socket.ts";

/**
 * Test-only: an app for the platform's servers. `/hello` answers with the listener's loopback
 * flag and the forwarded proto/Host it was given; `/echo` upgrades to a WebSocket (subprotocol
 * `echo.minik`) that sends every message back reversed.
 */
export function echoApp(): Hono<{ Bindings: ServerEnv }> {
  const app = new Hono<{ Bindings: ServerEnv }>();
  app.get("/hello", (c) => {
    const proto = c.req.header("x-forwarded-proto");
    return c.text(proto ? `hello ${proto} ${c.req.header("host")}` : `hello, loopback=${c.env.loopback}`);
  });
  app.get(
    "/echo",
    (c) =>
      c.env.upgrade?.(c.req.raw, "echo.minik", (socket) => {
        socket.onMessage((m) => socket.send(new Uint8Array([...m].reverse())));
      }) ?? c.text("no upgrade", 500),
  );
  return app;
}
