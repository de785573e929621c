/**
 * `minik up`: a straight start-up script. Every step says what it was doing when it fails.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { defaultDataDir, paths } from "../core/config.ts";
import { ApiError } from "../core/errors.ts";

export interface UpOptions {
  listen: string;
  dataDir?: string;
  anonymous?: boolean;
  writeKubeconfig?: boolean;
  registryMirror?: string | string[];
  runtime?: string;
  podCidr?: string;
  serviceCidr?: string;
  nodeportAddress?: string;
}

export async function up(opts: UpOptions): Promise<void> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  step("preparing data directory", () => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const token = step("reading the API token", () => ensureToken(dataDir));
  void token;
  throw new ApiError("ServiceUnavailable", "minik up: the server is being wired together; not yet runnable");
}

function step<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

/** The token is generated on first start and kept (0600) so the CLI and kubeconfig keep working. */
export function ensureToken(dataDir: string): string {
  const file = paths.token(dataDir);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = randomBytes(32).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
