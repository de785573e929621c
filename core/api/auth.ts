import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { ADMIN_USER, type UserInfo } from "../auth/user.ts";
import { ApiError } from "../errors.ts";

/**
 * Bearer-token authentication plus a cookie for the web page. A login link is a one-time code
 * minted by an authenticated caller (`minik dashboard`); opening it trades the code for an
 * HttpOnly cookie whose value is a session secret, never the token itself.
 */
export interface AuthConfig {
  token: string;
  /** Let requests without credentials through; only honoured when the server listens on loopback. */
  anonymous?: boolean;
  /** Service-account tokens (JWTs): checked when a bearer token is not the admin's. */
  serviceAccounts?: Pick<ServiceAccountTokens, "review">;
}

export const SESSION_COOKIE = "minik_session";
const CODE_TTL_MS = 5 * 60_000;

export interface Authenticator {
  /**
   * Who sent the request: the admin (its token, a session cookie, or anonymous loopback when
   * allowed) or a service account (a valid service-account token). Throws Unauthorized otherwise.
   */
  authenticate(req: Request, loopback: boolean): Promise<UserInfo>;
  /** Mints a one-time login code. */
  mintCode(): string;
  /** Redeems a code for a session secret; undefined when unknown, used or expired. */
  redeem(code: string): string | undefined;
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  const codes = new Map<string, number>();
  const sessions = new Set<string>();
  return {
    async authenticate(req, loopback) {
      const header = req.headers.get("Authorization") ?? "";
      const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      if (bearer && safeEqual(bearer, config.token)) return ADMIN_USER;
      if (bearer && config.serviceAccounts && bearer.split(".").length === 3) {
        const review = await config.serviceAccounts.review(bearer);
        if (review.authenticated && review.user) return review.user;
        // a token was offered and is not good: 401, never a fallback to anonymous or the cookie
        throw new ApiError("Unauthorized", "Unauthorized");
      }
      // A loopback Host too: a web page whose DNS name was rebound to 127.0.0.1 must not get in.
      if (config.anonymous && loopback && isLoopbackHost(req.headers.get("Host") ?? new URL(req.url).host))
        return ADMIN_USER;
      const session = readCookie(req.headers.get("Cookie"), SESSION_COOKIE);
      if (session && sessions.has(session)) return ADMIN_USER;
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
      const session = randomSecret();
      sessions.add(session);
      return session;
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

function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** Constant-time comparison so the token cannot be guessed byte by byte from timings. */
function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
