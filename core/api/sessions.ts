/**
 * Dashboard sessions: a random secret (the cookie's value) with a second random secret, the CSRF
 * token, that a write made with the cookie must repeat in a header. A session ends after
 * `idleMs` without use or `absoluteMs` after login, whichever comes first.
 */
export interface Session {
  id: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** When it ends unless used again: the earlier of the idle and the absolute deadline. */
  expiresAt: number;
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
  now?: () => number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 60 * 60_000, absoluteMs: 12 * 60 * 60_000 };

/** The header that carries a session's CSRF token on writes. */
export const CSRF_HEADER = "X-Minik-CSRF-Token";

export interface Sessions {
  open(): Session;
  /** The live session with this id (its idle clock restarted), or undefined when unknown or expired. */
  use(id: string): Session | undefined;
}

export function createSessions(limits: SessionLimits = DEFAULT_SESSION_LIMITS): Sessions {
  const now = limits.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const deadline = (s: Session) => Math.min(s.lastSeenAt + limits.idleMs, s.createdAt + limits.absoluteMs);
  const expired = (s: Session, t: number) => t > deadline(s);
  return {
    open() {
      const t = now();
      for (const [id, s] of sessions) if (expired(s, t)) sessions.delete(id);
      const session = {
        id: randomSecret(),
        csrfToken: randomSecret(),
        createdAt: t,
        lastSeenAt: t,
        expiresAt: 0,
      };
      session.expiresAt = deadline(session);
      sessions.set(session.id, session);
      return session;
    },
    use(id) {
      const s = sessions.get(id);
      if (!s) return undefined;
      const t = now();
      if (expired(s, t)) {
        sessions.delete(id);
        return undefined;
      }
      s.lastSeenAt = t;
      s.expiresAt = deadline(s);
      return s;
    },
  };
}

export function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison so a secret cannot be guessed byte by byte from timings. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
