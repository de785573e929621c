import { readFileSync } from "node:fs";
import { paths } from "../core/config.ts";
import { createEtcdStore } from "../core/store/etcd-store.ts";
import { SCHEMA_NAME } from "../core/store/pg-schema.ts";
import { createSqlStore } from "../core/store/sql-store.ts";
import type { Store } from "../core/store/store.ts";
import { UsageError } from "./usage-error.ts";

export interface DatastoreOptions {
  /**
   * `etcd://host:2379[,host:2379…]` (or `etcd+https://…`), or `postgres://user:pw@host:5432/db`;
   * unset = the embedded libsql file.
   */
  datastoreEndpoint?: string;
  datastoreCafile?: string;
  datastoreCertfile?: string;
  datastoreKeyfile?: string;
  /**
   * Key prefix in etcd (default /registry), or the schema in Postgres (default minik), so several
   * clusters can share one etcd or one database.
   */
  datastorePrefix?: string;
}

/** `etcd://h1:2379,h2:2379` → the members' client URLs; https when TLS files are given. */
export function etcdEndpoints(url: string, tls: boolean): string[] {
  const m = /^etcd(\+https?)?:\/\/(.+)$/.exec(url);
  if (!m)
    throw new UsageError(
      `--datastore-endpoint "${url}": use etcd://host:2379[,host:2379…] or postgres://user:password@host:5432/database`,
    );
  const scheme = m[1] === "+https" || (tls && m[1] !== "+http") ? "https" : "http";
  return m[2]!.split(",").map((hostPort) => {
    const h = hostPort.trim().replace(/\/$/, "");
    if (!/^[A-Za-z0-9.[\]:-]+:\d+$/.test(h))
      throw new UsageError(`--datastore-endpoint: "${h}" is not host:port (in ${url})`);
    return `${scheme}://${h}`;
  });
}

/** The Postgres schema `--datastore-prefix` names (default minik). */
export function pgSchema(prefix: string | undefined): string {
  const schema = prefix ?? "minik";
  if (!SCHEMA_NAME.test(schema))
    throw new UsageError(
      `--datastore-prefix "${schema}": with Postgres it names the schema; use lower-case letters, digits and _ (e.g. minik)`,
    );
  return schema;
}

/**
 * The datastore `minik up` keeps objects in: the embedded libsql file in the data dir by default,
 * or an etcd cluster or a Postgres database shared by several API servers (as k3s's
 * --datastore-endpoint).
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
  if (/^postgres(ql)?:\/\//.test(opts.datastoreEndpoint))
    // Loaded only when asked for: the Postgres driver is no cost to the default set-up.
    return (await import("../core/store/pg-store.ts")).createPgStore({
      url: opts.datastoreEndpoint,
      schema: pgSchema(opts.datastorePrefix),
      tls,
    });
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
