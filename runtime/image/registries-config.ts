/**
 * Registry settings, k3s-style (`<data-dir>/registries.yaml`):
 *
 *   mirrors:
 *     docker.io:
 *       endpoint: ["http://127.0.0.1:5100"]
 *   configs:
 *     "127.0.0.1:5101":
 *       auth: { username: minik, password: secret }
 *       insecure: true            # plain HTTP
 *
 * plus `--registry-mirror docker.io=http://127.0.0.1:5100` flags merged on top.
 */
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { RuntimeError } from "../../core/seams/container-runtime.ts";

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64 `user:password`, as in Docker's config.json. */
  auth?: string;
  /** A bearer token used as is. */
  token?: string;
}

export interface RegistryHostConfig {
  auth?: RegistryAuth;
  /** Talk plain HTTP to this host (loopback hosts need no entry). */
  insecure?: boolean;
}

export interface RegistriesConfig {
  mirrors?: Record<string, { endpoint: string[] }>;
  configs?: Record<string, RegistryHostConfig>;
}

export function loadRegistriesConfig(path: string): RegistriesConfig {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new RuntimeError("InvalidRegistriesConfig", `${path}: not valid YAML: ${(e as Error).message}`);
  }
  return validate(doc ?? {}, path);
}

function validate(doc: unknown, where: string): RegistriesConfig {
  const bad = (what: string): never => {
    throw new RuntimeError("InvalidRegistriesConfig", `${where}: ${what}`);
  };
  if (typeof doc !== "object" || Array.isArray(doc)) bad("expected a mapping with mirrors/configs");
  const d = doc as Record<string, unknown>;
  const out: RegistriesConfig = {};
  if (d.mirrors) {
    out.mirrors = {};
    for (const [host, m] of Object.entries(d.mirrors as Record<string, { endpoint?: unknown }>)) {
      const ep = m?.endpoint;
      if (!Array.isArray(ep) || !ep.every((e) => typeof e === "string"))
        bad(`mirrors.${host}.endpoint must be a list of URLs`);
      for (const e of ep as string[])
        if (!/^https?:\/\//.test(e))
          bad(`mirrors.${host}.endpoint: "${e}" must start with http:// or https://`);
      out.mirrors[host] = { endpoint: ep as string[] };
    }
  }
  if (d.configs) {
    out.configs = {};
    for (const [host, c] of Object.entries(d.configs as Record<string, Record<string, unknown>>)) {
      const auth = c?.auth as RegistryAuth | undefined;
      const tls = c?.tls as { insecure_skip_verify?: boolean } | undefined;
      out.configs[host] = { auth, insecure: Boolean(c?.insecure ?? tls?.insecure_skip_verify) };
    }
  }
  return out;
}

/**
 * `docker.io=http://127.0.0.1:5100` (repeatable; a bare URL means docker.io) → mirrors, tried
 * before the ones from registries.yaml, in flag order.
 */
export function withMirrorFlags(base: RegistriesConfig, flags: string[]): RegistriesConfig {
  const fromFlags: Record<string, string[]> = {};
  for (const f of flags) {
    const eq = f.indexOf("=");
    const host = eq > 0 && !f.slice(0, eq).includes("/") ? f.slice(0, eq) : "docker.io";
    const url = (host === f.slice(0, eq) ? f.slice(eq + 1) : f).replace(/\/+$/, "");
    if (!/^https?:\/\/[^/]+/.test(url)) {
      throw new RuntimeError(
        "InvalidRegistriesConfig",
        `--registry-mirror "${f}": want <registry>=<http(s)://host:port>`,
      );
    }
    fromFlags[host] = [...(fromFlags[host] ?? []), url];
  }
  const mirrors = { ...(base.mirrors ?? {}) };
  for (const [host, urls] of Object.entries(fromFlags)) {
    const rest = (mirrors[host]?.endpoint ?? []).filter((e) => !urls.includes(e));
    mirrors[host] = { endpoint: [...urls, ...rest] };
  }
  return { ...base, mirrors };
}
