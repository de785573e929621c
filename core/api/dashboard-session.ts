import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The web page's sessions as signed cookies, so they survive a minik restart (the signing key is
 * derived from the API token, which `minik up` keeps in the data dir). A session expires after
 * `idleMs` without activity and `lifetimeMs` after login, whichever is first; activity re-issues
 * the cookie with a new "last seen" time. Mutating requests made with the cookie must carry the
 * session's CSRF token (`X-CSRF-Token`), which only a page of this origin can read.
 */
export interface SessionPolicy {
  idleMs: number;
  lifetimeMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 60 * 60_000, lifetimeMs: 12 * 60 * 60_000 };
export const CSRF_HEADER = "X-CSRF-Token";
const VERSION = "s1";

export interface Session {
  id: string;
  issuedAt: number;
  seenAt: number;
  /** When the session ends unless it is refreshed: the earlier of the idle and absolute limits. */
  expiresAt: number;
}

export interface Sessions {
  readonly policy: SessionPolicy;
  /** A fresh session's cookie value. */
  issue(now?: number): string;
  /** The session a cookie value holds, or undefined when forged, expired or logged out. */
  verify(value: string | undefined, now?: number): Session | undefined;
  /** The same session seen now: a new cookie value to set, or undefined when it is no longer valid. */
  refresh(value: string | undefined, now?: number): string | undefined;
  /** Logs the session out (until its absolute lifetime would have ended anyway). */
  revoke(value: string | undefined): void;
  /** The per-session token that mutating requests must echo in `X-CSRF-Token`. */
  csrfToken(session: Session): string;
  /** True when a request made with this session may mutate: a safe method, or the right CSRF token. */
  allows(req: Request, session: Session): boolean;
}

export function createSessions(secret: string, policy: SessionPolicy = DEFAULT_SESSION_POLICY): Sessions {
  const key = createHmac("sha256", "minik dashboard sessions").update(secret).digest();
  const sign = (text: string) => createHmac("sha256", key).update(text).digest("base64url");
  /** Logged-out session ids and when they would have expired anyway. */
  const revoked = new Map<string, number>();
  const encode = (id: string, issuedAt: number, seenAt: number) => {
    const body = `${VERSION}.${id}.${issuedAt.toString(36)}.${seenAt.toString(36)}`;
    return `${body}.${sign(body)}`;
  };
  const sessions: Sessions = {
    policy,
    issue(now = Date.now()) {
      return encode(randomBytes(16).toString("base64url"), now, now);
    },
    verify(value, now = Date.now()) {
      const parts = (value ?? "").split(".");
      if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
      const body = parts.slice(0, 4).join(".");
      if (!sameText(sign(body), parts[4]!)) return undefined;
      const id = parts[1]!;
      const issuedAt = Number.parseInt(parts[2]!, 36);
      const seenAt = Number.parseInt(parts[3]!, 36);
      const expiresAt = Math.min(seenAt + policy.idleMs, issuedAt + policy.lifetimeMs);
      if (!(expiresAt > now) || revoked.has(id)) return undefined;
      return { id, issuedAt, seenAt, expiresAt };
    },
    refresh(value, now = Date.now()) {
      const session = sessions.verify(value, now);
      return session && encode(session.id, session.issuedAt, now);
    },
    revoke(value) {
      const parts = (value ?? "").split(".");
      const session = sessions.verify(value);
      if (!session) return;
      const now = Date.now();
      for (const [id, until] of revoked) if (until < now) revoked.delete(id);
      revoked.set(parts[1]!, session.issuedAt + policy.lifetimeMs);
    },
    csrfToken(session) {
      return sign(`csrf.${session.id}`);
    },
    allows(req, session) {
      if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return true;
      return sameText(req.headers.get(CSRF_HEADER) ?? "", sessions.csrfToken(session));
    },
  };
  return sessions;
}

/** The `Set-Cookie` value for a session: HttpOnly, SameSite=Strict, ending with the session. */
export function sessionCookie(name: string, value: string, session?: Session, secure = false): string {
  const maxAge = session ? Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000)) : 0;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
