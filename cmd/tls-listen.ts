import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The data-dir file that keeps the TLS listener's address, so a written kubeconfig survives restarts. */
export const TLS_LISTEN_FILE = "listen-tls";

export interface TlsListen {
  /** host:port to listen on (port 0: any free one). */
  address: string;
  /** Where it came from, for the start-up log. */
  from: "flag" | "data dir" | "default";
}

/**
 * Where the TLS listener goes: `--listen-tls` when given; else the address the last start used
 * (kept in the data dir), as long as it is on the host of `--listen`; else 7443 beside the
 * default 7080, or a free port beside any other.
 */
export function tlsListenAddress(
  dataDir: string,
  flag: string | undefined,
  listen: [string, number],
): TlsListen {
  if (flag) return { address: flag, from: "flag" };
  const [host, port] = listen;
  const kept = readKept(dataDir);
  if (kept && hostOf(kept) === host) return { address: kept, from: "data dir" };
  return { address: `${bracket(host)}:${port === 7080 ? 7443 : 0}`, from: "default" };
}

/** Remembers the address the TLS listener got, for the next start without `--listen-tls`. */
export function rememberTlsListen(dataDir: string, host: string, port: number): void {
  writeFileSync(join(dataDir, TLS_LISTEN_FILE), `${bracket(host)}:${port}\n`);
}

function readKept(dataDir: string): string | undefined {
  const file = join(dataDir, TLS_LISTEN_FILE);
  return existsSync(file) ? readFileSync(file, "utf8").trim() || undefined : undefined;
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":")).replace(/^\[|\]$/g, "");
}

function bracket(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
