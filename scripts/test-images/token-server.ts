/**
 * A tiny Docker token server for the bearer-auth test registry: checks basic credentials against
 * the test user, and grants the requested repository actions as an RS256 JWT.
 *
 *   bun scripts/test-images/token-server.ts <port> <run-dir>
 */
import { sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { prepareTokenAuth, TOKEN_ISSUER, TOKEN_SERVICE } from "./token-keys.ts";

const USER = "minik";
const PASSWORD = "minik-test-password";

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");

function jwt(kid: string, key: Buffer, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = sign("sha256", Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(sig)}`;
}

/** `repository:minik-test/x:pull,push` → access entry; other scope types are not granted. */
function access(scope: string) {
  const m = /^repository:([^:]+):(.+)$/.exec(scope);
  return m
    ? [
        {
          type: "repository",
          name: m[1],
          actions: m[2]!.split(",").filter((a) => a === "pull" || a === "push"),
        },
      ]
    : [];
}

const port = Number(process.argv[2]);
const dir = process.argv[3]!;
const auth = await prepareTokenAuth(dir);
const key = readFileSync(join(dir, "token-key.pem"));

Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/healthz") return new Response("ok");
    if (url.pathname !== "/token") return new Response("not found", { status: 404 });
    const header = req.headers.get("authorization") ?? "";
    const creds = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString() : "";
    if (creds !== `${USER}:${PASSWORD}`) {
      return Response.json(
        { errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] },
        { status: 401 },
      );
    }
    if (url.searchParams.get("service") !== TOKEN_SERVICE) {
      return Response.json({ errors: [{ code: "DENIED", message: "unknown service" }] }, { status: 400 });
    }
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(auth.kid, key, {
      iss: TOKEN_ISSUER,
      sub: USER,
      aud: TOKEN_SERVICE,
      iat: now,
      nbf: now - 10,
      exp: now + 300,
      jti: crypto.randomUUID(),
      access: url.searchParams.getAll("scope").flatMap(access),
    });
    return Response.json({
      token,
      access_token: token,
      expires_in: 300,
      issued_at: new Date(now * 1000).toISOString(),
    });
  },
});
