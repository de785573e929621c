import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSelfSignedCertificate } from "../core/api/tls-certificate.ts";

/**
 * The API's serving certificate, made once (WebCrypto, no openssl) and kept in the data dir with
 * the host names it covers, so a new listen address makes a new one. kubectl (client-go) sends a
 * bearer token only over TLS, so the kubeconfig points at the TLS listener and carries this
 * self-signed certificate as its certificate authority.
 */
export async function ensureServingCert(
  dataDir: string,
  hosts: string[],
): Promise<{ cert: string; key: string }> {
  const cert = join(dataDir, "tls.crt");
  const key = join(dataDir, "tls.key");
  const hostsFile = join(dataDir, "tls.hosts");
  const wanted = [...new Set(["127.0.0.1", "localhost", ...hosts])].sort();
  if (existsSync(cert) && existsSync(key) && existsSync(hostsFile)) {
    const have: string[] = JSON.parse(readFileSync(hostsFile, "utf8"));
    if (wanted.every((h) => have.includes(h)))
      return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  }
  const isIp = (h: string) => /^[\d.]+$/.test(h) || h.includes(":");
  const made = await createSelfSignedCertificate({
    ipAddresses: wanted.filter(isIp),
    dnsNames: wanted.filter((h) => !isIp(h)),
  });
  writeFileSync(key, made.key, { mode: 0o600 });
  chmodSync(key, 0o600);
  writeFileSync(cert, made.cert);
  writeFileSync(hostsFile, JSON.stringify(wanted));
  return { cert: made.cert, key: made.key };
}
