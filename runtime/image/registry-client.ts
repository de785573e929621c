/**
 * A pull-only client for the OCI distribution API (Docker Registry v2): manifests and blobs, with
 * basic and bearer-token auth, mirrors, and plain HTTP for loopback and insecure hosts.
 *
 * Every byte is verified: manifests against the requested digest and Docker-Content-Digest,
 * config blobs by sha256 and size here; layer blobs are verified while unpacking (unpack.ts).
 */
import { createHash } from "node:crypto";
import { DOCKER_HUB, type ImageReference } from "./reference.ts";
import type { RegistriesConfig, RegistryAuth } from "./registries-config.ts";

export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** Always all four: registry 2.8 404s OCI content or downgrades Docker manifests to schema1 otherwise. */
const ACCEPT = Object.values(MEDIA_TYPES).join(", ");

export class RegistryError extends Error {
  override name = "RegistryError";
  constructor(
    message: string,
    /** Registry error code (MANIFEST_UNKNOWN, UNAUTHORIZED…) or our own (DIGEST_MISMATCH, UNREACHABLE). */
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  urls?: string[];
  annotations?: Record<string, string>;
}

export interface Manifest {
  mediaType: string;
  digest: string;
  body: Uint8Array;
  json: {
    mediaType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
  };
}

export interface RegistryClientOptions {
  config?: RegistriesConfig;
  fetch?: typeof fetch;
  /** Deadline for manifest and token requests (default 30 s). */
  timeoutMs?: number;
}

export interface RegistryClient {
  /** GETs a manifest (by tag or digest) and verifies its digest. `endpoint` pins a mirror already chosen. */
  getManifest(
    ref: ImageReference,
    reference: string,
    endpoint?: string,
  ): Promise<Manifest & { endpoint: string }>;
  /** GETs a blob; the caller verifies its bytes (see readVerified / unpackLayer). */
  /**
   * The manifest digest a tag points at now (HEAD, which registries do not count against pull
   * rate limits), or undefined when the registry does not say; never throws.
   */
  headDigest(ref: ImageReference, reference: string): Promise<string | undefined>;
  /** `signal` aborts the request and its body (the store's stall watchdog); default: no deadline. */
  getBlob(ref: ImageReference, digest: string, endpoint: string, signal?: AbortSignal): Promise<Response>;
}

export const sha256 = (data: Uint8Array | string) =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Where to ask for `domain`'s images: configured mirrors first, then the registry itself. */
export function endpointsFor(domain: string, config: RegistriesConfig = {}): string[] {
  const mirrors = config.mirrors?.[domain]?.endpoint ?? config.mirrors?.["*"]?.endpoint ?? [];
  const insecure = config.configs?.[domain]?.insecure === true || isLoopback(domain);
  const own =
    domain === DOCKER_HUB ? "https://registry-1.docker.io" : `${insecure ? "http" : "https"}://${domain}`;
  return [...mirrors.map((m) => m.replace(/\/+$/, "")), own].filter((e, i, all) => all.indexOf(e) === i);
}

/** Parses `Bearer realm="…",service="…",scope="…",error="…"` (case-insensitive scheme and keys). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  const params: Record<string, string> = {};
  if (!m) return { scheme: "", params };
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: m[1]!.toLowerCase(), params };
}

async function drainBody(r: Response) {
  await r.arrayBuffer().catch(() => {});
}

/** Turns a registry's `{"errors":[{code,message}]}` body into one line. */
async function registryMessage(r: Response): Promise<{ code: string; message: string }> {
  const text = await r.text().catch(() => "");
  try {
    const errs = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    if (errs.length > 0) {
      return {
        code: errs[0]?.code ?? `HTTP_${r.status}`,
        message: errs.map((e) => `${e.code}: ${e.message}`).join("; "),
      };
    }
  } catch {}
  return {
    code: `HTTP_${r.status}`,
    message: `HTTP ${r.status} ${r.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`,
  };
}

function credentials(auth?: RegistryAuth): string | undefined {
  if (!auth) return undefined;
  if (auth.auth) return auth.auth;
  if (auth.username !== undefined)
    return Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64");
  return undefined;
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const config = opts.config ?? {};
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  /** Authorization header per `host|scope`, learned from challenges. */
  const authCache = new Map<string, string>();

  const hostConfig = (endpointHost: string, domain: string) =>
    config.configs?.[endpointHost] ?? config.configs?.[domain];

  async function tokenFor(
    params: Record<string, string>,
    scope: string,
    basic: string | undefined,
    where: string,
  ): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new RegistryError(`${where}: bearer challenge without realm`, "UNAUTHORIZED", 401);
    const url = new URL(realm);
    if (params.service) url.searchParams.set("service", params.service);
    url.searchParams.set("scope", scope);
    let r: Response;
    try {
      r = await doFetch(url, {
        headers: basic ? { authorization: `Basic ${basic}` } : {},
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new RegistryError(
        `${where}: token server ${url.origin} unreachable: ${(e as Error).message}`,
        "UNREACHABLE",
      );
    }
    if (!r.ok) {
      const { code, message } = await registryMessage(r);
      const why = r.status === 401 ? "authentication failed (wrong username or password?)" : message;
      throw new RegistryError(
        `${where}: token request failed: ${why}`,
        code === `HTTP_${r.status}` ? "UNAUTHORIZED" : code,
        r.status,
      );
    }
    const body = (await r.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${where}: token server returned no token`, "UNAUTHORIZED", 401);
    return token;
  }

  /** One authenticated GET; answers a 401 challenge once (basic or bearer) and retries. */
  async function authedGet(
    ref: ImageReference,
    endpoint: string,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    method: "GET" | "HEAD" = "GET",
  ): Promise<Response> {
    const endpointHost = new URL(endpoint).host;
    const scope = `repository:${ref.path}:pull`;
    const cacheKey = `${endpointHost}|${scope}`;
    const basic = credentials(hostConfig(endpointHost, ref.domain)?.auth);
    const where = `${endpointHost}/${ref.path}`;
    const url = `${endpoint}/v2/${ref.path}/${path}`;
    const get = async (auth?: string): Promise<Response> => {
      try {
        return await getFollowing(
          url,
          { ...headers, ...(auth ? { authorization: auth } : {}) },
          signal,
          method,
        );
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        throw new RegistryError(
          `${endpointHost}: registry unreachable: ${(e as Error).message}`,
          "UNREACHABLE",
        );
      }
    };
    const token = hostConfig(endpointHost, ref.domain)?.auth?.token;
    let r = await get(authCache.get(cacheKey) ?? (token ? `Bearer ${token}` : undefined));
    if (r.status !== 401) return r;
    const challenge = parseChallenge(r.headers.get("www-authenticate") ?? "");
    await drainBody(r);
    let auth: string;
    if (challenge.scheme === "bearer") {
      // A token is per repository and action: ask with this repository's scope even if the
      // challenge named another (insufficient_scope).
      auth = `Bearer ${await tokenFor(challenge.params, scope, basic, where)}`;
    } else if (challenge.scheme === "basic") {
      if (!basic) {
        throw new RegistryError(
          `${where}: authentication required (configure credentials for ${endpointHost})`,
          "UNAUTHORIZED",
          401,
        );
      }
      auth = `Basic ${basic}`;
    } else {
      throw new RegistryError(
        `${where}: unauthorized (unknown challenge "${challenge.scheme}")`,
        "UNAUTHORIZED",
        401,
      );
    }
    r = await get(auth);
    if (r.status === 401) {
      await drainBody(r);
      throw new RegistryError(
        `${where}: authentication failed (wrong username or password?)`,
        "UNAUTHORIZED",
        401,
      );
    }
    authCache.set(cacheKey, auth);
    return r;
  }

  /** Follows redirects by hand so Authorization never travels to another host (S3-style blob URLs). */
  async function getFollowing(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
    method: "GET" | "HEAD" = "GET",
  ): Promise<Response> {
    let current = url;
    let h = headers;
    for (let hops = 0; hops < 10; hops++) {
      const r = await doFetch(current, { method, headers: h, redirect: "manual", signal });
      if (r.status < 300 || r.status >= 400 || !r.headers.get("location")) return r;
      await drainBody(r);
      const next = new URL(r.headers.get("location")!, current);
      if (next.origin !== new URL(current).origin) {
        const { authorization: _, ...rest } = h;
        h = rest;
      }
      current = next.toString();
    }
    throw new RegistryError(`${url}: too many redirects`, "UNREACHABLE");
  }

  /** Manifest requests always carry all four media types and a deadline. */
  const manifestRequest = (
    ref: ImageReference,
    endpoint: string,
    reference: string,
    method: "GET" | "HEAD",
  ) =>
    authedGet(
      ref,
      endpoint,
      `manifests/${reference}`,
      { accept: ACCEPT },
      AbortSignal.timeout(timeoutMs),
      method,
    );

  async function fetchManifest(ref: ImageReference, reference: string, endpoint: string) {
    const r = await manifestRequest(ref, endpoint, reference, "GET");
    const where = `${new URL(endpoint).host}/${ref.path}:${reference}`;
    if (!r.ok) {
      const { code, message } = await registryMessage(r);
      const what = r.status === 404 ? `${where}: not found (${message})` : `${where}: ${message}`;
      throw new RegistryError(what, code, r.status);
    }
    const body = await readLimited(r, MAX_MANIFEST_BYTES, `${where}: manifest`);
    const digest = sha256(body);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RegistryError(`${where}: manifest digest mismatch: got ${digest}`, "DIGEST_MISMATCH");
    }
    const header = r.headers.get("docker-content-digest");
    if (header?.startsWith("sha256:") && header !== digest) {
      throw new RegistryError(
        `${where}: manifest digest ${digest} does not match Docker-Content-Digest ${header}`,
        "DIGEST_MISMATCH",
      );
    }
    let json: Manifest["json"];
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new RegistryError(`${where}: manifest is not valid JSON`, "MANIFEST_INVALID");
    }
    const contentType = (r.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const known = Object.values(MEDIA_TYPES) as string[];
    const mediaType = known.includes(contentType)
      ? contentType
      : (json.mediaType ?? (json.manifests ? MEDIA_TYPES.ociIndex : contentType));
    if (!known.includes(mediaType)) {
      throw new RegistryError(
        `${where}: unsupported manifest type ${mediaType || "(none)"}`,
        "MANIFEST_INVALID",
      );
    }
    return { mediaType, digest, body, json, endpoint };
  }

  return {
    async headDigest(ref, reference) {
      for (const endpoint of endpointsFor(ref.domain, config)) {
        try {
          const r = await manifestRequest(ref, endpoint, reference, "HEAD");
          const digest = r.headers.get("docker-content-digest");
          if (r.ok && digest) return digest;
        } catch {}
      }
      return undefined;
    },

    async getManifest(ref, reference, pinned) {
      const endpoints = pinned ? [pinned] : endpointsFor(ref.domain, config);
      const errors: RegistryError[] = [];
      for (const endpoint of endpoints) {
        try {
          return await fetchManifest(ref, reference, endpoint);
        } catch (e) {
          if (!(e instanceof RegistryError)) throw e;
          errors.push(e);
        }
      }
      // The most telling failure: "not found"/"unauthorized" from a registry that answered beats "unreachable".
      throw errors.find((e) => e.code !== "UNREACHABLE") ?? errors[0]!;
    },

    async getBlob(ref, digest, endpoint, signal) {
      const r = await authedGet(ref, endpoint, `blobs/${digest}`, {}, signal);
      if (!r.ok) {
        const { code, message } = await registryMessage(r);
        throw new RegistryError(
          `${new URL(endpoint).host}/${ref.path}@${digest}: ${message}`,
          code,
          r.status,
        );
      }
      return r;
    },
  };
}

/** Manifests and configs are small; containerd refuses more than 4 MiB too. */
const MAX_MANIFEST_BYTES = 4 << 20;

/** Reads a body into memory, failing as soon as it passes `limit` bytes. */
async function readLimited(r: Response, limit: number, what: string): Promise<Uint8Array> {
  if (!r.body) return new Uint8Array(0);
  const reader = r.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (let c = await reader.read(); !c.done; c = await reader.read()) {
    n += c.value.length;
    if (n > limit) {
      await reader.cancel().catch(() => {});
      throw new RegistryError(`${what} is larger than ${limit} bytes`, "MANIFEST_INVALID");
    }
    chunks.push(c.value);
  }
  return Buffer.concat(chunks);
}

/** Reads a whole (small) blob and checks its sha256 and size. */
export async function readVerified(r: Response, d: Descriptor, what: string): Promise<Uint8Array> {
  const body = await readLimited(r, Math.min(d.size, MAX_MANIFEST_BYTES) + 1, `${what} ${d.digest}`);
  if (body.length !== d.size) {
    throw new RegistryError(
      `${what} ${d.digest}: size ${body.length} does not match the manifest's ${d.size}`,
      "DIGEST_MISMATCH",
    );
  }
  const got = sha256(body);
  if (got !== d.digest)
    throw new RegistryError(`${what} digest mismatch: expected ${d.digest}, got ${got}`, "DIGEST_MISMATCH");
  return body;
}
