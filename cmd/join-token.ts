import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:tls";
import { UsageError } from "./usage-error.ts";

/**
 * The token a node joins with, as k3s spells its own: `K10<sha256 of the server's certificate>::node:<secret>`.
 * The hash lets the agent trust the server's self-signed certificate before it sends the secret
 * (pinning, no CA to copy around); the secret authenticates the node (core/auth/node-token.ts).
 */
export const NODE_TOKEN_FILE = "node-token";
const PREFIX = "K10";

export interface JoinToken {
  caHash: string;
  secret: string;
}

export function formatJoinToken(token: JoinToken): string {
  return `${PREFIX}${token.caHash}::node:${token.secret}`;
}

export function parseJoinToken(text: string): JoinToken {
  const m = /^K10([0-9a-f]{64})::node:([A-Za-z0-9_-]{16,})$/.exec(text.trim());
  if (!m)
    throw new UsageError(
      "the node token is not one `minik up` wrote: expected K10<64 hex digits>::node:<secret> (copy <data-dir>/node-token from the server)",
    );
  return { caHash: m[1]!, secret: m[2]! };
}

export function certificateHash(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
}

/**
 * `<data-dir>/node-token` (0600): the secret is made once and kept; the hash follows the serving
 * certificate, so a certificate made anew for a new address gives a token with the new hash.
 */
export function ensureJoinToken(dataDir: string, certPem: string): JoinToken {
  const file = join(dataDir, NODE_TOKEN_FILE);
  let secret: string | undefined;
  if (existsSync(file)) {
    try {
      secret = parseJoinToken(readFileSync(file, "utf8")).secret;
    } catch {
      secret = undefined; // unreadable: make a new one (nodes holding the old one are refused)
    }
  }
  const token = { caHash: certificateHash(certPem), secret: secret ?? randomBytes(32).toString("hex") };
  const text = `${formatJoinToken(token)}\n`;
  if (!existsSync(file) || readFileSync(file, "utf8") !== text) writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * The server's certificate, fetched without trusting it and accepted only when its hash is the
 * token's: what the agent then uses as the CA of every request (it is self-signed).
 */
export function fetchPinnedCertificate(server: string, caHash: string, timeoutMs = 10_000): Promise<string> {
  const url = new URL(server);
  if (url.protocol !== "https:") throw new UsageError(`--server must be an https:// URL, not ${server}`);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot reach the API server ${server}: no TLS handshake in ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const der = socket.getPeerCertificate(false).raw;
      socket.destroy();
      const hash = createHash("sha256").update(der).digest("hex");
      if (hash !== caHash) {
        reject(
          new Error(
            `the API server at ${server} presents a certificate (sha256 ${hash.slice(0, 16)}…) that is not the one in the node token (${caHash.slice(0, 16)}…): wrong server, or its certificate changed — copy its node-token again`,
          ),
        );
        return;
      }
      const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
      resolve(`-----BEGIN CERTIFICATE-----\n${b64.trim()}\n-----END CERTIFICATE-----\n`);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the API server ${server}: ${e.message}`));
    });
  });
}
