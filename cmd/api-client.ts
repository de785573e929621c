import { apiErrorFrom } from "../core/client/api-error-from.ts";
import { ApiError } from "../core/errors.ts";
import type { KubeObject } from "../core/object.ts";
import { VERSION } from "../core/version.ts";
import { type GlobalOptions, serverUrl, token } from "./context.ts";
import { printWarnings } from "./warnings.ts";

const USER_AGENT = `minik/${VERSION.gitVersion} (${process.platform}/${process.arch === "x64" ? "amd64" : process.arch})`;

export { resourcePath } from "../core/client/rest-path.ts";

export const TABLE_ACCEPT =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  accept?: string;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

/** A thin HTTP client for the minik API; every non-2xx answer becomes an ApiError from its Status body. */
export class ApiClient {
  readonly base: string;
  private readonly token: string | undefined;
  /** Every `Warning` header goes to stderr, once per message, as kubectl prints them. */

  constructor(opts: GlobalOptions) {
    this.base = serverUrl(opts);
    this.token = token(opts);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      // the server records a write without ?fieldManager under the agent's name: "minik"
      "User-Agent": USER_AGENT,
      ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      ...extra,
    };
  }

  url(path: string, query?: RequestOptions["query"]): string {
    const u = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers = this.headers({ Accept: opts.accept ?? "application/json" });
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = opts.contentType ?? "application/json";
      body =
        typeof opts.body === "string" || opts.body instanceof Uint8Array
          ? (opts.body as BodyInit)
          : JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), { method, headers, body, signal: opts.signal });
    } catch (e) {
      throw new ApiError(
        "ServiceUnavailable",
        `cannot reach the minik API at ${this.base} (${(e as Error).message}); is \`minik up\` running? Use -s URL or $MINIK_SERVER to point elsewhere`,
      );
    }
    printWarnings(res.headers);
    if (!res.ok) throw await apiErrorFrom(res);
    return res;
  }

  async request<T = KubeObject>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  get<T = KubeObject>(path: string, opts?: RequestOptions) {
    return this.request<T>("GET", path, opts);
  }
}
