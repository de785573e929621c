import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_LISTEN, defaultDataDir, paths } from "../core/config.ts";

/** Global flags every command accepts. */
export interface GlobalOptions {
  server?: string;
  token?: string;
  dataDir?: string;
  debug?: boolean;
  namespace?: string;
}

/** Where the CLI finds the server: -s/--server, then $MINIK_SERVER, then what `minik up` wrote, then the default. */
export function serverUrl(opts: GlobalOptions): string {
  if (opts.server) return opts.server.replace(/\/$/, "");
  if (process.env.MINIK_SERVER) return process.env.MINIK_SERVER.replace(/\/$/, "");
  const file = paths.serverUrl(opts.dataDir ?? defaultDataDir());
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  return `http://${DEFAULT_LISTEN}`;
}

/** The bearer token: --token, then $MINIK_TOKEN, then <data-dir>/token. */
export function token(opts: GlobalOptions): string | undefined {
  if (opts.token) return opts.token;
  if (process.env.MINIK_TOKEN) return process.env.MINIK_TOKEN;
  const file = paths.token(opts.dataDir ?? defaultDataDir());
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}
