import type { Binding } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject, WatchEvent } from "../object.ts";
import type { Client, DeleteOptions, ListOptions, PatchType, WriteOptions } from "../seams/client.ts";
import { apiErrorFrom } from "./api-error-from.ts";
import { resourceOfKey, resourcePath } from "./rest-path.ts";

/**
 * The `Client` contract over a remote API server (what a joined node's agent, service proxy and
 * DNS use): REST verbs with web-standard fetch, watch as kube-apiserver's newline-delimited JSON
 * stream. The same rules as the in-process registry apply, since the server's registry does the work.
 */
export interface HttpClientOptions {
  /** e.g. https://10.0.0.1:7443 */
  server: string;
  /** Sent as `Authorization: Bearer …`. */
  bearer: string;
  /** A fetch that trusts the server's certificate (the platform's, with the CA); default: global fetch. */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

const PATCH_TYPES: Record<PatchType, string> = {
  strategic: "application/strategic-merge-patch+json",
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

export type Query = Record<string, string | undefined>;

export function createHttpClient(options: HttpClientOptions): Client {
  const call = httpCaller(options);

  async function json<T>(method: string, path: string, query: Query, body?: unknown, type?: string) {
    const init: RequestInit = {};
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "Content-Type": type ?? "application/json" };
    }
    const res = await call(method, path, query, init);
    return (await res.json()) as T;
  }

  const objectPath = (resource: string, namespace: string, name: string, sub?: string) =>
    resourcePath(resourceOfKey(resource), namespace, name, sub);
  const writeQuery = (o?: WriteOptions): Query => ({
    dryRun: o?.dryRun ? "All" : undefined,
    fieldManager: o?.fieldManager,
    fieldValidation: o?.fieldValidation,
  });
  const ns = (obj: KubeObject) => obj.metadata.namespace ?? "";
  const nameOf = (obj: KubeObject) => obj.metadata.name ?? "";

  const client: Client = {
    get: (resource, namespace, name) => json("GET", objectPath(resource, namespace, name), {}),
    async tryGet<T extends KubeObject>(resource: string, namespace: string, name: string) {
      try {
        return await client.get<T>(resource, namespace, name);
      } catch (e) {
        if (e instanceof ApiError && e.reason === "NotFound") return undefined;
        throw e;
      }
    },
    async list<T extends KubeObject>(resource: string, o: ListOptions = {}) {
      const info = resourceOfKey(resource);
      const list = await json<{ items?: T[]; metadata?: { resourceVersion?: string } }>(
        "GET",
        resourcePath(info, o.namespace),
        { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector },
      );
      // a list's items carry no kind of their own on the wire
      const items = (list.items ?? []).map((i) => ({
        ...i,
        apiVersion: i.apiVersion,
        kind: i.kind ?? info.kind,
      }));
      return { items: items as T[], resourceVersion: list.metadata?.resourceVersion ?? "0" };
    },
    create: (resource, obj, o) =>
      json("POST", resourcePath(resourceOfKey(resource), ns(obj)), writeQuery(o), obj),
    update: (resource, obj, o) => json("PUT", objectPath(resource, ns(obj), nameOf(obj)), writeQuery(o), obj),
    updateStatus: (resource, obj, o) =>
      json("PUT", objectPath(resource, ns(obj), nameOf(obj), "status"), writeQuery(o), obj),
    patch: (resource, namespace, name, type, patch, o) =>
      json(
        "PATCH",
        objectPath(resource, namespace, name, o?.subresource),
        { ...writeQuery(o), force: o?.force ? "true" : undefined },
        patch,
        PATCH_TYPES[type],
      ),
    delete: (resource, namespace, name, o?: DeleteOptions) =>
      json(
        "DELETE",
        objectPath(resource, namespace, name),
        { dryRun: o?.dryRun ? "All" : undefined },
        {
          kind: "DeleteOptions",
          apiVersion: "v1",
          gracePeriodSeconds: o?.gracePeriodSeconds,
          propagationPolicy: o?.propagationPolicy,
          preconditions: o?.preconditions,
        },
      ),
    async bind<T extends KubeObject>(namespace: string, name: string, binding: Binding, o?: WriteOptions) {
      // the API answers a binding with a Status, as upstream does: the pod is read back
      await json("POST", objectPath("pods", namespace, name, "binding"), writeQuery(o), {
        apiVersion: "v1",
        kind: "Binding",
        ...binding,
      });
      return client.get<T>("pods", namespace, name);
    },
    watch: (resource, o, onEvent) => watchStream(call, resource, o, onEvent),
  };
  return client;
}

type Call = (method: string, path: string, query: Query, init?: RequestInit) => Promise<Response>;

/** One authenticated request; a non-2xx answer throws its ApiError, an unreachable server ServiceUnavailable. */
export function httpCaller(options: HttpClientOptions): Call {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  return async (method, path, query, init = {}) => {
    const url = new URL(path, options.server);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") url.searchParams.set(k, v);
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${options.bearer}`);
    headers.set("Accept", "application/json");
    let res: Response;
    try {
      res = await doFetch(url.toString(), { ...init, method, headers });
    } catch (e) {
      throw new ApiError(
        "ServiceUnavailable",
        `cannot reach the API server ${options.server}: ${(e as Error).message}`,
      );
    }
    if (!res.ok) throw await apiErrorFrom(res);
    return res;
  };
}

/**
 * Resolves once the server accepted the watch (a 410 throws Expired/Gone, as the registry does).
 * When the stream ends or breaks, one ERROR event tells the informer to list again: a remote
 * watch ends by design (the server's watch lifetime) and by accident (the network).
 */
async function watchStream(
  call: Call,
  resource: string,
  o: ListOptions & { resourceVersion?: string },
  onEvent: (event: WatchEvent) => void,
): Promise<() => void> {
  const abort = new AbortController();
  const res = await call(
    "GET",
    resourcePath(resourceOfKey(resource), o.namespace),
    {
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: o.resourceVersion,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    },
    { signal: abort.signal },
  );
  void readLines(res, (line) => {
    const event = JSON.parse(line) as { type: string; object: KubeObject };
    if (event.type === "BOOKMARK") return;
    onEvent(event as WatchEvent);
  }).then(
    () => ended(),
    () => ended(),
  );
  function ended() {
    if (abort.signal.aborted) return;
    onEvent({ type: "ERROR", object: { kind: "Status", metadata: {} } } as unknown as WatchEvent);
  }
  return () => abort.abort();
}

async function readLines(res: Response, onLine: (line: string) => void): Promise<void> {
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) onLine(line);
      nl = buffer.indexOf("\n");
    }
  }
}
