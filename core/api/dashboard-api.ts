import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import { RESOURCES, resourceKey } from "../resources.ts";
import type { Client } from "../seams/client.ts";
import { readSession, SECURE_SESSION_COOKIE } from "./auth.ts";
import { type Sessions, sessionCookie } from "./dashboard-session.ts";
import { DASHBOARD_PROTOCOL, parseKinds, streamKinds } from "./dashboard-stream.ts";
import type { AppEnv } from "./deps.ts";
import { isWebSocketUpgrade, offeredProtocols } from "./socket.ts";

/** Close code for "the session ended": the page then shows the login prompt instead of retrying. */
export const SESSION_ENDED = 4401;

/**
 * The web page's endpoints under /minik/v1/dashboard, behind the API's auth (mounted through
 * `ApiServerDeps.routes`): the multiplexed live stream, the session (its CSRF token and expiry,
 * re-issuing the cookie on activity) and logout. Changes themselves go to the ordinary API, which
 * checks the CSRF token of cookie sessions (core/api/auth.ts).
 */
export function createDashboardApi(deps: { client: Client; sessions: Sessions }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { sessions } = deps;
  const sessionOf = readSession;

  app.get("/minik/v1/dashboard/stream", (c) => {
    const req = c.req.raw;
    if (!isWebSocketUpgrade(req) || !offeredProtocols(req).includes(DASHBOARD_PROTOCOL))
      throw new ApiError("BadRequest", `open this as a WebSocket speaking ${DASHBOARD_PROTOCOL}`);
    // A browser sends the cookie with cross-site WebSocket handshakes too; only this origin may stream.
    const origin = req.headers.get("Origin");
    if (origin && new URL(origin).host !== (req.headers.get("Host") ?? new URL(req.url).host))
      throw new ApiError("Forbidden", `the dashboard stream is not served to ${origin}`);
    const session = sessions.verify(sessionOf(req));
    const kinds = parseKinds(c.req.query("kinds"));
    const res = c.env?.upgrade?.(req, DASHBOARD_PROTOCOL, (socket) => {
      const stop = streamKinds(deps.client, socket, kinds);
      if (!session) return;
      // the socket outlives no session: at its end the page is told, and asks for a new login
      const timer = setTimeout(() => {
        stop();
        socket.close(SESSION_ENDED, "session ended");
      }, session.expiresAt - Date.now());
      socket.onClose(() => clearTimeout(timer));
    });
    if (!res) throw new ApiError("ServiceUnavailable", "this server cannot open WebSockets");
    return res;
  });

  app.get("/minik/v1/dashboard/session", (c) => {
    const value = sessionOf(c.req.raw);
    const refreshed = sessions.refresh(value);
    const session = sessions.verify(refreshed);
    const body = {
      kind: "DashboardSession",
      apiVersion: "minik/v1",
      csrfToken: session ? sessions.csrfToken(session) : null,
      /** The session seen now: the page keeps it for its next requests. */
      session: session ? refreshed : null,
      expiresAt: session ? new Date(session.expiresAt).toISOString() : null,
      idleSeconds: sessions.policy.idleMs / 1000,
    };
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
    };
    if (refreshed && session && isTls(c.req.url))
      headers["Set-Cookie"] = sessionCookie(SECURE_SESSION_COOKIE, refreshed, session, true);
    return new Response(JSON.stringify(body), { headers });
  });

  app.post("/minik/v1/dashboard/logout", (c) => {
    sessions.revoke(sessionOf(c.req.raw));
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (isTls(c.req.url)) headers["Set-Cookie"] = sessionCookie(SECURE_SESSION_COOKIE, "", undefined, true);
    return new Response(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Success" }), { headers });
  });
  return app;
}

function isTls(url: string): boolean {
  return url.startsWith("https:");
}

/** Every kind the API serves, as the dashboard page needs them (cmd/up.ts hands them to web/). */
export function dashboardKinds() {
  return RESOURCES.map((r) => ({
    key: resourceKey(r),
    kind: r.kind,
    plural: r.plural,
    base: r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`,
    namespaced: r.namespaced,
  }));
}
