import { ApiError } from "../errors.ts";
import { CSRF_HEADER, createSessions, randomSecret, type SessionLimits, safeEqual } from "./sessions.ts";

/**
 * Bearer-token authentication plus a cookie for the web page. A login link is a one-time code
 * minted by an authenticated caller (`minik dashboard`); opening it trades the code for an
 * HttpOnly cookie whose value is a session secret, never the token itself. Sessions expire
 * (core/api/sessions.ts), and a write made with the cookie must repeat the session's CSRF token.
 */
export interface AuthConfig {
  token: string;
  /** Let requests without credentials through; only honoured when the server listens on loopback. */
  anonymous?: boolean;
  /** Idle and absolute session lifetimes; default 1 h idle, 12 h absolute. */
  sessions?: SessionLimits;
}

/**
 * Over TLS the cookie is `__Host-` prefixed and Secure: bound to this exact origin, never sent to
 * a plain-HTTP NodePort app on the same 127.0.0.1. The plain name serves plain-HTTP listeners.
 */
export const SESSION_COOKIE = "minik_session";
export const SECURE_SESSION_COOKIE = "__Host-minik_session";
const CODE_TTL_MS = 5 * 60_000;

/** How a request was let in. */
export type Principal =
  | { via: "token" }
  | { via: "anonymous" }
  | { via: "session"; csrfToken: string; expiresAt: number };

export interface Authenticator {
  /**
   * Throws Unauthorized unless the request carries the token or a live session cookie; for a
   * cookie, a mutating request (`write`) must also carry the session's CSRF token.
   */
  check(req: Request, loopback: boolean, write: boolean): Principal;
  /** Mints a one-time login code. */
  mintCode(): string;
  /** Redeems a code for a session; the Set-Cookie value, or undefined when unknown, used or expired. */
  redeem(code: string, secure: boolean): string | undefined;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  const codes = new Map<string, number>();
  const sessions = createSessions(config.sessions);
  return {
    check(req, loopback, write) {
      const header = req.headers.get("Authorization") ?? "";
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (match && safeEqual(match[1]!.trim(), config.token)) return { via: "token" };
      const secure = new URL(req.url).protocol === "https:";
      const cookie = req.headers.get("Cookie");
      const id =
        readCookie(cookie, SECURE_SESSION_COOKIE) ??
        (secure ? undefined : readCookie(cookie, SESSION_COOKIE));
      const session = id ? sessions.use(id) : undefined;
      if (session) {
        if (write && !safeEqual(req.headers.get(CSRF_HEADER) ?? "", session.csrfToken)) {
          throw new ApiError(
            "Forbidden",
            `a write with the dashboard session needs the ${CSRF_HEADER} header (GET /minik/v1/session)`,
          );
        }
        return { via: "session", csrfToken: session.csrfToken, expiresAt: session.expiresAt };
      }
      // A loopback Host too: a web page whose DNS name was rebound to 127.0.0.1 must not get in.
      if (config.anonymous && loopback && isLoopbackHost(req.headers.get("Host") ?? new URL(req.url).host))
        return { via: "anonymous" };
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
      const { id } = sessions.open();
      return secure
        ? `${SECURE_SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict`
        : `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
    },
  };
}

function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
