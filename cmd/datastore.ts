import { readFileSync } from "node:fs";
import { paths } from "../core/config.ts";
import { createEtcdStore } from "../core/store/etcd-store.ts";
import { createSqlStore } from "../core/store/sql-store.ts";
import type { Store } from "../core/store/store.ts";
import { UsageError } from "./usage-error.ts";

export interface DatastoreOptions {
  /** `etcd://host:2379[,host:2379…]` (or `etcd+https://…`); unset = the embedded libsql file. */
  datastoreEndpoint?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  /** Key prefix in etcd (default /registry), so several clusters can share one etcd. */
  datastorePrefix?: string;
}

/** `etcd://h1:2379,h2:2379` → the members' client URLs; https when TLS files are given. */
export function etcdEndpoints(url: string, tls: boolean): string[] {
  const m = /^etcd(\+https?)?:\/\/(.+)$/.exec(url);
  if (!m) throw new UsageError(`--datastore-endpoint "${url}": use etcd://host:2379[,host:2379…]`);
  const scheme = m[1] === "+https" || (tls && m[1] !== "+http") ? "https" : "http";
  return m[2]!.split(",").map((hostPort) => {
    const h = hostPort.trim().replace(/\/$/, "");
    if (!/^[A-Za-z0-9.[\]:-]+:\d+$/.test(h))
      throw new UsageError(`--datastore-endpoint: "${h}" is not host:port (in ${url})`);
    return `${scheme}://${h}`;
  });
}

/**
 * The datastore `minik up` keeps objects in: the embedded libsql file in the data dir by default,
 * or an etcd cluster shared by several API servers (as k3s's --datastore-endpoint).
 */
export async function openDatastore(opts: DatastoreOptions, dataDir: string): Promise<Store> {
  if (!opts.datastoreEndpoint) return createSqlStore({ url: `file:${paths.db(dataDir)}` });
  const tlsFiles = { ca: opts.datastoreCafile, cert: opts.datastoreCertfile, key: opts.datastoreKeyfile };
  const useTls = Object.values(tlsFiles).some(Boolean);
  if (!!tlsFiles.cert !== !!tlsFiles.key)
    throw new UsageError(
      "--datastore-certfile and --datastore-keyfile go together (a client certificate and its key)",
    );
  const read = (f: string | undefined) => (f ? readFileSync(f, "utf8") : undefined);
  const tls = useTls
    ? { ca: read(tlsFiles.ca), cert: read(tlsFiles.cert), key: read(tlsFiles.key) }
    : undefined;
  // Bun's fetch takes the TLS material per request; without TLS the standard fetch does.
  const tlsFetch = tls
    ? (((input: RequestInfo | URL, init?: RequestInit) =>
        fetch(input, { ...init, tls } as RequestInit)) as typeof fetch)
    : undefined;
  return createEtcdStore({
    endpoints: etcdEndpoints(opts.datastoreEndpoint, useTls),
    prefix: opts.datastorePrefix,
    fetch: tlsFetch,
  });
}
