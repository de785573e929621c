import { ApiError } from "../errors.ts";
import { createSessions, readCookie, type Sessions } from "./dashboard-session.ts";

/**
 * Bearer-token authentication plus a cookie for the web page. A login link is a one-time code
 * minted by an authenticated caller (`minik dashboard`); opening it trades the code for an
 * HttpOnly cookie whose value is a session secret, never the token itself.
 */
export interface AuthConfig {
  token: string;
  /** Let requests without credentials through; only honoured when the server listens on loopback. */
  anonymous?: boolean;
  /** The web page's signed, expiring sessions; default: signed with a key derived from the token. */
  sessions?: Sessions;
}

export const SESSION_COOKIE = "minik_session";
const CODE_TTL_MS = 5 * 60_000;

export interface Authenticator {
  /** Throws Unauthorized unless the request carries the token or a session cookie. */
  check(req: Request, loopback: boolean): void;
  /** Mints a one-time login code. */
  mintCode(): string;
  /** Redeems a code for a session secret; undefined when unknown, used or expired. */
  redeem(code: string): string | undefined;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  const codes = new Map<string, number>();
  const sessions = config.sessions ?? createSessions(config.token);
  return {
    check(req, loopback) {
      // A loopback Host too: a web page whose DNS name was rebound to 127.0.0.1 must not get in.
      if (config.anonymous && loopback && isLoopbackHost(req.headers.get("Host") ?? new URL(req.url).host))
        return;
      const header = req.headers.get("Authorization") ?? "";
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (match && safeEqual(match[1]!.trim(), config.token)) return;
      const session = sessions.verify(readCookie(req.headers.get("Cookie"), SESSION_COOKIE));
      if (session && !sessions.allows(req, session))
        throw new ApiError("Forbidden", "a change made with the web session needs its CSRF token");
      if (session) return;
      throw new ApiError("Unauthorized", "Unauthorized: pass the token from `minik up` as a Bearer token");
    },
    mintCode() {
      const now = Date.now();
      for (const [code, expires] of codes) if (expires < now) codes.delete(code);
      const code = randomSecret();
      codes.set(code, now + CODE_TTL_MS);
      return code;
    },
    redeem(code) {
      const expires = codes.get(code);
      codes.delete(code);
      if (expires === undefined || expires < Date.now()) return undefined;
      return sessions.issue();
    },
  };
}

function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison so the token cannot be guessed byte by byte from timings. */
function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
