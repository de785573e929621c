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
 * Bearer-token authentication plus a cookie for the web page. A login link is a one-time code
 * minted by an authenticated caller (`minik dashboard`); opening it trades the code for an
 * HttpOnly cookie holding a signed, expiring session (dashboard-session.ts), never the token.
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
export const SESSION_COOKIE = "minik_session";
export const SECURE_SESSION_COOKIE = "__Host-minik_session";
const CODE_TTL_MS = 5 * 60_000;

/** The cookie's name for a request's listener. */
export function sessionCookieName(req: Request): string {
  return new URL(req.url).protocol === "https:" ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** The session cookie a request carries: over TLS only the `__Host-` one counts. */
export function readSessionCookie(req: Request): string | undefined {
  const cookie = req.headers.get("Cookie");
  const secure = new URL(req.url).protocol === "https:";
  return (
    readCookie(cookie, SECURE_SESSION_COOKIE) ?? (secure ? undefined : readCookie(cookie, SESSION_COOKIE))
  );
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
  /** Redeems a code for a session; the Set-Cookie value, or undefined when unknown, used or expired. */
  redeem(code: string, secure: boolean): string | undefined;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  const codes = new Map<string, number>();
  const sessions = config.sessions ?? createSessions(config.token);
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
      const session = sessions.verify(readSessionCookie(req));
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
      const expires = codes.get(code);
      codes.delete(code);
      if (expires === undefined || expires < Date.now()) return undefined;
      const value = sessions.issue();
      const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
      return sessionCookie(name, value, sessions.verify(value), secure);
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
