import { nodeUser, parseNodeBearer } from "../auth/node-token.ts";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { ADMIN_USER, type UserInfo } from "../auth/user.ts";
import { ApiError } from "../errors.ts";
import {
  CSRF_HEADER,
  createSessions,
  readCookie,
  type Sessions,
  sessionCookie,
} from "./dashboard-session.ts";

/**
 * Bearer-token authentication plus sessions for the web page. A login link is a one-time code
 * minted by an authenticated caller (`minik dashboard`); opening it trades the code for a signed,
 * expiring session (dashboard-session.ts), never the token.
 *
 * Where the session lives, and why: browsers send a cookie to every port of a host, so a
 * long-lived session cookie on the plain-HTTP listener (http://127.0.0.1:7080) would also reach
 * any NodePort app or local dev server on 127.0.0.1, whose server could replay it — no Origin
 * check helps against a replay from outside a browser. So on plain HTTP the session is no cookie:
 * the login redirect hands it to the page in the URL fragment (never sent to a server), the page
 * keeps it in localStorage (scoped to this exact origin, port included) and sends it as the
 * `X-Minik-Session` header (or, for its WebSocket, as a `minik.session.<value>` subprotocol). The
 * only cookie is a one-time, one-minute code for the first paint of `/` right after login (so the
 * page shows rows even without JavaScript); it is spent by that request. Over TLS the `__Host-`
 * cookie is bound to its origin by the browser, so it stays as well.
 */
export interface AuthConfig {
  token: string;
  /** Let requests without credentials through; only honoured when the server listens on loopback. */
  anonymous?: boolean;
  /** The web page's signed, expiring sessions; default: signed with a key derived from the token. */
  sessions?: Sessions;
  /** Service-account tokens (JWTs): checked when a bearer token is not the admin's. */
  serviceAccounts?: Pick<ServiceAccountTokens, "review">;
  /** The join secret of nodes (node-token.ts); none: no node can join. */
  nodeSecret?: string;
}

/**
 * Over TLS the cookie is `__Host-` prefixed and Secure: bound to this exact origin, never sent to
 * a plain-HTTP NodePort app on the same 127.0.0.1. The plain name serves plain-HTTP listeners.
 */
export const SECURE_SESSION_COOKIE = "__Host-minik_session";
export const SESSION_HEADER = "X-Minik-Session";
export const SESSION_PROTOCOL_PREFIX = "minik.session.";
/** The one-time code for the first paint after login (see above). */
export const FIRST_PAINT_COOKIE = "minik_first_paint";
const CODE_TTL_MS = 5 * 60_000;
const FIRST_PAINT_TTL_MS = 60_000;

/**
 * The session a request carries: the page's header, its WebSocket subprotocol, or over TLS the
 * `__Host-` cookie. A plain-HTTP cookie never counts (a cookie there is shared with every port).
 */
export function readSession(req: Request): string | undefined {
  const header = req.headers.get(SESSION_HEADER)?.trim();
  if (header) return header;
  const offered = (req.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
  const protocol = offered.find((p) => p.startsWith(SESSION_PROTOCOL_PREFIX));
  if (protocol) return protocol.slice(SESSION_PROTOCOL_PREFIX.length);
  if (new URL(req.url).protocol !== "https:") return undefined;
  return readCookie(req.headers.get("Cookie"), SECURE_SESSION_COOKIE);
}

/** A redeemed login link: the session for the page, and the cookies to set with the redirect. */
export interface Login {
  session: string;
  cookies: string[];
}

export interface Authenticator {
  /**
   * Who sent the request: the admin (its token, a live session cookie, or anonymous loopback when
   * allowed) or a service account (a valid service-account token). Throws Unauthorized otherwise;
   * a mutating request (`write`) made with the cookie must also carry the session's CSRF token.
   */
  authenticate(req: Request, loopback: boolean, write: boolean): Promise<UserInfo>;
  /** Mints a one-time login code. */
  mintCode(): string;
  /** Redeems a login code for a session, or undefined when unknown, used or expired. */
  redeem(code: string, secure: boolean): Login | undefined;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  const codes = new Map<string, number>();
  /** First-paint codes and the session each stands for. */
  const paints = new Map<string, { session: string; expires: number }>();
  const sessions = config.sessions ?? createSessions(config.token);
  /** The first paint of `/` right after login: its one-time cookie, spent here. */
  const firstPaint = (req: Request) => {
    const url = new URL(req.url);
    if (req.method !== "GET" || url.pathname !== "/") return undefined;
    const code = readCookie(req.headers.get("Cookie"), FIRST_PAINT_COOKIE);
    const paint = code ? paints.get(code) : undefined;
    if (!code || !paint) return undefined;
    paints.delete(code);
    return paint.expires > Date.now() ? sessions.verify(paint.session) : undefined;
  };
  return {
    async authenticate(req, loopback, write) {
      const header = req.headers.get("Authorization") ?? "";
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      if (bearer && safeEqual(bearer, config.token)) return ADMIN_USER;
      const node = bearer ? parseNodeBearer(bearer) : undefined;
      if (node) {
        if (config.nodeSecret && safeEqual(node.secret, config.nodeSecret)) return nodeUser(node.nodeName);
        throw new ApiError(
          "Unauthorized",
          "Unauthorized: the node token does not match the server's node-token",
        );
      }
      if (bearer && config.serviceAccounts && bearer.split(".").length === 3) {
        const review = await config.serviceAccounts.review(bearer);
        if (review.authenticated && review.user) return review.user;
        // a token was offered and is not good: 401, never a fallback to anonymous or the cookie
        throw new ApiError("Unauthorized", "Unauthorized");
      }
      const session = sessions.verify(readSession(req)) ?? firstPaint(req);
      if (session) {
        if (write && !sessions.allows(req, session)) {
          throw new ApiError(
            "Forbidden",
            `a write with the dashboard session needs the ${CSRF_HEADER} header (GET /minik/v1/dashboard/session)`,
          );
        }
        return ADMIN_USER;
      }
      // A loopback Host too: a web page whose DNS name was rebound to 127.0.0.1 must not get in.
      if (config.anonymous && loopback && isLoopbackHost(req.headers.get("Host") ?? new URL(req.url).host))
        return ADMIN_USER;
      throw new ApiError("Unauthorized", "Unauthorized: pass the token from `minik up` as a Bearer token");
    },
    mintCode() {
      const now = Date.now();
      for (const [code, expires] of codes) if (expires < now) codes.delete(code);
      const code = randomSecret();
      codes.set(code, now + CODE_TTL_MS);
      return code;
    },
    redeem(code, secure) {
      const now = Date.now();
      const expires = codes.get(code);
      codes.delete(code);
      if (expires === undefined || expires < now) return undefined;
      const session = sessions.issue();
      for (const [c, p] of paints) if (p.expires < now) paints.delete(c);
      const paint = randomSecret();
      paints.set(paint, { session, expires: now + FIRST_PAINT_TTL_MS });
      const cookies = [
        `${FIRST_PAINT_COOKIE}=${paint}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${FIRST_PAINT_TTL_MS / 1000}${secure ? "; Secure" : ""}`,
      ];
      if (secure) cookies.push(sessionCookie(SECURE_SESSION_COOKIE, session, sessions.verify(session), true));
      return { session, cookies };
    },
  };
}

function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison so the token cannot be guessed byte by byte from timings. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
