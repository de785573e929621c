import { Buffer } from "node:buffer";
import { ApiError, isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { ListOptions, ListResult } from "../seams/client.ts";
import type { PageKey } from "../store/list-page.ts";
import type { Store } from "../store/store.ts";
import type { ObjectFilter } from "./watch.ts";

/**
 * `?limit=` / `?continue=` as kube-apiserver pages an etcd read: every page reads the state at
 * the first page's resourceVersion (a consistent snapshot), the token is base64url JSON
 * `{"v":"meta.k8s.io/v1","rv":N,"start":"<key after the last one read>"}`, and
 * `remainingItemCount` is told only when no selector filters the list (otherwise it is unknown).
 */

const TOKEN_VERSION = "meta.k8s.io/v1";

interface ContinueToken {
  rv: number;
  /** `namespace/name` (or `name` in one namespace or for cluster-scoped kinds), plus "\0". */
  start: string;
}

/** Whether this list is paged: a limit or a token, unless resourceVersion=0 (any state; the whole list). */
export function isPaged(options: ListOptions): boolean {
  if (options.continue) return true;
  return !!options.limit && options.limit > 0 && options.resourceVersion !== "0";
}

export async function listPage(
  store: Store,
  resource: string,
  namespace: string | undefined,
  filter: ObjectFilter | undefined,
  options: ListOptions,
): Promise<ListResult<KubeObject>> {
  if (options.continue && options.resourceVersion)
    throw new ApiError("BadRequest", "specifying resource version is not allowed when using continue");
  const token = options.continue ? decodeContinue(options.continue) : undefined;
  const limit = options.limit && options.limit > 0 ? options.limit : undefined;
  const items: KubeObject[] = [];
  // A first page with resourceVersion=N asks for a state not older than N: the current one is.
  let at = token ? String(token.rv) : undefined;
  let after = token ? keyFrom(token.start.slice(0, -1), namespace) : undefined;
  // With a selector a chunk may match little: read on at the same revision until the page is
  // full, as upstream's etcd reads do (each chunk at most MAX_CHUNK items).
  let size = 0;
  for (;;) {
    // twice the last read while a selector leaves the page short, as upstream grows its reads
    size = Math.min(MAX_CHUNK, Math.max((limit ?? 0) - items.length, size * 2));
    const want = limit === undefined ? undefined : size;
    const chunk = await readAt(store, resource, namespace, { at, after, limit: want, kept: !!token || !!at });
    at = chunk.resourceVersion;
    for (const obj of chunk.items) if (!filter || filter(obj)) items.push(obj);
    const last = chunk.items.at(-1);
    const remaining = chunk.remaining ?? 0;
    if (!last || remaining === 0) return { items, resourceVersion: at };
    after = { namespace: last.metadata.namespace ?? "", name: last.metadata.name ?? "" };
    if (limit !== undefined && items.length >= limit)
      return {
        items,
        resourceVersion: at,
        continue: encodeContinue({ rv: Number(at), start: `${tokenKey(after, namespace)}\u0000` }),
        ...(filter ? {} : { remainingItemCount: remaining }),
      };
  }
}

/** Items read per store call while filling a page. */
const MAX_CHUNK = 10_000;

async function readAt(
  store: Store,
  resource: string,
  namespace: string | undefined,
  q: { at?: string; after?: PageKey; limit?: number; kept: boolean },
) {
  try {
    // the first read keeps its snapshot for the pages after it
    return await store.list(resource, namespace, {
      resourceVersion: q.at,
      keep: !q.kept,
      after: q.after,
      limit: q.limit,
    });
  } catch (e) {
    if (q.kept && isApiError(e, "Expired"))
      throw new ApiError(
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    throw e;
  }
}

/** The token's start: `namespace/name` when listing across namespaces, else the name. */
function tokenKey(key: PageKey, namespace: string | undefined): string {
  return namespace === undefined && key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

function keyFrom(start: string, namespace: string | undefined): PageKey {
  const slash = start.indexOf("/");
  if (slash < 0) return { namespace: namespace ?? "", name: start };
  return { namespace: start.slice(0, slash), name: start.slice(slash + 1) };
}

export function encodeContinue(token: ContinueToken): string {
  const json = JSON.stringify({ v: TOKEN_VERSION, rv: token.rv, start: token.start });
  return Buffer.from(json, "utf8").toString("base64url");
}

/** The token's revision and start key; 400 with upstream's words for anything malformed. */
export function decodeContinue(value: string): ContinueToken {
  const invalid = (why: string) => new ApiError("BadRequest", `invalid continue token: ${why}`);
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw invalid("continue key is not valid: illegal base64 data");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
  } catch (e) {
    throw invalid(`continue key is not valid: ${(e as Error).message}`);
  }
  const c = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
  if (c.v !== TOKEN_VERSION)
    throw invalid(
      `continue key is not valid: server does not recognize this encoded version ${String(c.v ?? "")}`,
    );
  if (typeof c.rv !== "number" || !Number.isSafeInteger(c.rv) || c.rv <= 0)
    throw invalid(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  if (typeof c.start !== "string" || c.start === "")
    throw invalid("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
  // Upstream cleans the key as a path and refuses one that changes (`..`, `//`): it must not
  // reach outside the listed collection.
  const key = c.start.endsWith("\u0000") ? c.start.slice(0, -1) : c.start;
  if (key.split("/").some((p) => p === "" || p === "." || p === "..") || key.split("/").length > 2)
    throw invalid(`continue key is not valid: ${c.start}`);
  return { rv: c.rv, start: c.start.endsWith("\u0000") ? c.start : `${c.start}\u0000` };
}
