import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The API's serving certificate, made once with the openssl CLI and kept in the data dir (with
 * the host names it covers, so a new listen address makes a new one). kubectl (client-go) sends
 * a bearer token only over TLS, so the kubeconfig points at the TLS listener and carries this
 * self-signed certificate as its certificate authority.
 */
export function ensureServingCert(dataDir: string, hosts: string[]): { cert: string; key: string } {
  const cert = join(dataDir, "tls.crt");
  const key = join(dataDir, "tls.key");
  const hostsFile = join(dataDir, "tls.hosts");
  const wanted = [...new Set(["127.0.0.1", "localhost", ...hosts])].sort();
  if (existsSync(cert) && existsSync(key) && existsSync(hostsFile)) {
    const have: string[] = JSON.parse(readFileSync(hostsFile, "utf8"));
    if (wanted.every((h) => have.includes(h)))
      return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  }
  const san = wanted.map((h) => (/^[\d.]+$/.test(h) || h.includes(":") ? `IP:${h}` : `DNS:${h}`)).join(",");
  const out = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "3650",
      "-subj",
      "/CN=minik",
      "-addext",
      `subjectAltName=${san}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    { stderr: "pipe", stdout: "ignore" },
  );
  if (out.exitCode !== 0) {
    throw new Error(
      `openssl failed (is it installed? scripts/setup installs it): ${out.stderr.toString().trim()}`,
    );
  }
  chmodSync(key, 0o600);
  writeFileSync(hostsFile, JSON.stringify(wanted));
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}
