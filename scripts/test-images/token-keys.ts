/**
 * Key material for the bearer-token test registry: an RSA key and self-signed certificate made with
 * openssl at start-up (never checked in), and the libtrust key id (`kid`) the registry looks the
 * signing key up by.
 */
import { createHash, createPublicKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface TokenAuth {
  service: string;
  issuer: string;
  certPath: string;
  keyPath: string;
  kid: string;
}

export const TOKEN_SERVICE = "minik-test-registry";
export const TOKEN_ISSUER = "minik-test-token-server";

/** libtrust KeyID: base32 of the first 240 bits of sha256(DER SPKI), in 12 groups of 4. */
export function libtrustKeyId(spkiDer: Uint8Array): string {
  const hash = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

export async function prepareTokenAuth(dir: string): Promise<TokenAuth> {
  const certPath = join(dir, "token-cert.pem");
  const keyPath = join(dir, "token-key.pem");
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    const p = Bun.spawnSync(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        keyPath,
        "-out",
        certPath,
      ].concat(["-days", "3650", "-subj", "/CN=minik-test-token"]),
      { stderr: "pipe" },
    );
    if (p.exitCode !== 0) throw new Error(`token auth: openssl failed: ${p.stderr.toString()}`);
  }
  const spki = createPublicKey(readFileSync(keyPath)).export({ type: "spki", format: "der" });
  return { service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, certPath, keyPath, kid: libtrustKeyId(spki) };
}
