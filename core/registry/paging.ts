import { Buffer } from "node:buffer";
import { ApiError, isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { ListOptions, ListResult } from "../seams/client.ts";
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
  // A first page with resourceVersion=N asks for a state not older than N: the current one is.
  const at = token ? String(token.rv) : undefined;
  const listed = await store.list(resource, namespace, { resourceVersion: at, keep: true }).catch((e) => {
    if (token && isApiError(e, "Expired"))
      throw new ApiError(
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    throw e;
  });
  const keyOf = (o: KubeObject) =>
    namespace === undefined && o.metadata.namespace
      ? `${o.metadata.namespace}/${o.metadata.name}`
      : (o.metadata.name ?? "");
  const first = token ? firstAfter(listed.items, token.start.slice(0, -1), keyOf) : 0;
  const limit = options.limit && options.limit > 0 ? options.limit : Number.POSITIVE_INFINITY;
  const items: KubeObject[] = [];
  let i = first;
  for (; i < listed.items.length && items.length < limit; i++) {
    const obj = listed.items[i]!;
    if (!filter || filter(obj)) items.push(obj);
  }
  const result: ListResult<KubeObject> = { items, resourceVersion: listed.resourceVersion };
  if (i < listed.items.length) {
    result.continue = encodeContinue({
      rv: Number(listed.resourceVersion),
      start: `${keyOf(listed.items[i - 1]!)}\u0000`,
    });
    if (!filter) result.remainingItemCount = listed.items.length - i;
  }
  return result;
}

/** Index of the first item after `key`; items are sorted by namespace, then name. */
function firstAfter(items: KubeObject[], key: string, keyOf: (o: KubeObject) => string): number {
  const [ns, name] = splitKey(key);
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const [mns, mname] = splitKey(keyOf(items[mid]!));
    const after = mns > ns || (mns === ns && mname > name);
    if (after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return slash < 0 ? ["", key] : [key.slice(0, slash), key.slice(slash + 1)];
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
