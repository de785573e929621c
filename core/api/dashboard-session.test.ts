import { describe, expect, test } from "bun:test";
import { CSRF_HEADER, createSessions, readCookie, sessionCookie } from "./dashboard-session.ts";

const policy = { idleMs: 60_000, lifetimeMs: 600_000 };

describe("dashboard sessions", () => {
  test("a session verifies, and still does under a new process holding the same token", () => {
    const value = createSessions("token", policy).issue(1_000);
    const again = createSessions("token", policy).verify(value, 2_000);
    expect(again?.issuedAt).toBe(1_000);
    expect(again?.expiresAt).toBe(61_000);
    expect(createSessions("another token", policy).verify(value, 2_000)).toBeUndefined();
  });

  test("a changed field or a forged signature is refused", () => {
    const sessions = createSessions("token", policy);
    const value = sessions.issue(1_000);
    const parts = value.split(".");
    parts[3] = (999_999).toString(36);
    expect(sessions.verify(parts.join("."), 2_000)).toBeUndefined();
    expect(sessions.verify(`${value.slice(0, -2)}xx`, 2_000)).toBeUndefined();
    expect(sessions.verify("forged", 2_000)).toBeUndefined();
    expect(sessions.verify(undefined, 2_000)).toBeUndefined();
  });

  test("idle sessions expire; activity refreshes them until the absolute lifetime", () => {
    const sessions = createSessions("token", policy);
    let value = sessions.issue(0);
    expect(sessions.verify(value, 60_001)).toBeUndefined();
    for (let now = 50_000; now < 600_000; now += 50_000) value = sessions.refresh(value, now)!;
    expect(sessions.verify(value, 599_999)?.expiresAt).toBe(600_000);
    expect(sessions.verify(value, 600_000)).toBeUndefined();
    expect(sessions.refresh(value, 600_001)).toBeUndefined();
  });

  test("a revoked session is refused, other sessions are not", () => {
    const sessions = createSessions("token", policy);
    const a = sessions.issue();
    const b = sessions.issue();
    sessions.revoke(a);
    expect(sessions.verify(a)).toBeUndefined();
    expect(sessions.verify(b)).toBeDefined();
  });

  test("mutating requests need the session's CSRF token; reads do not", () => {
    const sessions = createSessions("token", policy);
    const session = sessions.verify(sessions.issue())!;
    const other = sessions.verify(sessions.issue())!;
    const req = (method: string, token?: string) =>
      new Request("http://x/api/v1/pods", { method, headers: token ? { [CSRF_HEADER]: token } : {} });
    expect(sessions.allows(req("GET"), session)).toBe(true);
    expect(sessions.allows(req("POST"), session)).toBe(false);
    expect(sessions.allows(req("DELETE", sessions.csrfToken(other)), session)).toBe(false);
    expect(sessions.allows(req("PATCH", sessions.csrfToken(session)), session)).toBe(true);
  });

  test("the cookie is HttpOnly, SameSite=Strict and ends with the session", () => {
    const sessions = createSessions("token", policy);
    const value = sessions.issue();
    const cookie = sessionCookie("minik_session", value, sessions.verify(value), true);
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict; Max-Age=(59|60); Secure$/);
    expect(readCookie(`a=1; minik_session=${value}`, "minik_session")).toBe(value);
    expect(sessionCookie("minik_session", "")).toContain("Max-Age=0");
  });
});
