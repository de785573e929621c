import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { apiVersionOf, type ResourceInfo } from "../resources.ts";
import type { ListResult } from "../seams/client.ts";
import type { StoredList } from "../store/store.ts";
import { mediaType, PATCH_TYPES, readBody, readBytes } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { checkTransform, encoded, negotiate, notInProtobuf, partialObjectMetadata } from "./negotiation.ts";
import { deleteOptions, listOptions, pagedListOptions, queryFlag, writeOptions } from "./options.ts";
import { hasMessage, messageName } from "./protobuf/fields.ts";
import { successStatus, warningHeaders } from "./respond.ts";
import { includeObjectParam, toTable } from "./table.ts";
import type { Target } from "./target.ts";
import { watchResponse, withKind } from "./watch.ts";
import { parseTimeoutSeconds } from "./watch-limits.ts";
import { initialEventsOptions } from "./watch-list.ts";

/** The verbs on a resource collection or object: list/watch, create, get, update, patch, delete. */
export async function handleResource(
  req: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  const method = req.method;
  // An unservable Accept is refused before anything is read or changed.
  const watching = isWatch(url);
  const answersList = !t.name && ((method === "GET" && !watching) || method === "DELETE");
  const rep = negotiate(req.headers.get("Accept"), watching);
  checkTransform(rep, answersList ? "list" : "object");
  if (rep.format === "protobuf" && !rep.fallback && !rep.as && !protobufDescribed(t))
    throw notInProtobuf({ kind: t.info.kind, apiVersion: apiVersionOf(t.info) });
  if (!t.name) {
    if (method === "GET") return isWatch(url) ? watch(req, url, t, deps) : list(req, url, t, deps);
    if (method === "POST") return create(req, url, t, deps);
    if (method === "DELETE") return deleteCollection(req, url, t, deps);
    throw methodNotAllowed(method, t);
  }
  if (t.info.namespaced && t.namespace === undefined)
    throw new ApiError(
      "NotFound",
      `${t.resource} is namespaced: use /namespaces/<namespace>/${t.info.plural}/${t.name}`,
    );
  switch (method) {
    case "GET":
      if (isWatch(url)) {
        const selector = [url.searchParams.get("fieldSelector"), `metadata.name=${t.name}`]
          .filter(Boolean)
          .join(",");
        url.searchParams.set("fieldSelector", selector);
        return watch(req, url, { ...t, name: undefined }, deps);
      }
      return get(req, url, t, deps);
    case "PUT":
      return update(req, url, t, deps);
    case "PATCH":
      return patch(req, url, t, deps);
    case "DELETE":
      return remove(req, url, t, deps);
    default:
      throw methodNotAllowed(method, t);
  }
}

export function methodNotAllowed(method: string, t: { resource: string; subresource?: string }): ApiError {
  const what = t.subresource ? `${t.resource}/${t.subresource}` : t.resource;
  return new ApiError(
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource: ${method} ${what}`,
  );
}

/** Whether the kind's messages are described, so its objects can be answered in protobuf. */
function protobufDescribed(t: Target): boolean {
  const [group, version] = apiVersionOf(t.info).includes("/") ? apiVersionOf(t.info).split("/") : ["", "v1"];
  return hasMessage(messageName(group!, version!, t.info.kind));
}

function isWatch(url: URL): boolean {
  return queryFlag(url.searchParams.get("watch"));
}

/** Object, one-row Table or PartialObjectMetadata, as JSON or YAML, by Accept. */
export function respondObject(
  req: Request,
  url: URL,
  t: Target,
  obj: KubeObject,
  code = 200,
  warnings: string[] = [],
): Response {
  const rep = negotiate(req.headers.get("Accept"));
  checkTransform(rep, "object");
  const full = withKind(obj, t.info);
  if (rep.as?.kind === "Table") {
    const table = toTable(t.resource, [full], full.metadata.resourceVersion ?? "", {
      includeObject: includeObjectParam(url.searchParams.get("includeObject")),
      printer: t.printer,
    });
    return encoded(rep, table, code, warningHeaders(warnings));
  }
  const body = rep.as ? partialObjectMetadata(full, rep.as.version) : full;
  return encoded(rep, body, code, warningHeaders(warnings));
}

async function list(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const rep = negotiate(req.headers.get("Accept"));
  checkTransform(rep, "list");
  initialEventsOptions(url.searchParams);
  const options = pagedListOptions(url, t.namespace);
  if (rep.format === "json" && !rep.as) {
    const stored = await deps.client.listJson?.(t.resource, options);
    if (stored) return storedList(t.info, stored);
  }
  const result = await deps.client.list(t.resource, options);
  const metadata = listMeta(result);
  const items = result.items.map((o) => withKind(o, t.info));
  if (rep.as?.kind === "Table") {
    const table = toTable(t.resource, items, result.resourceVersion, {
      includeObject: includeObjectParam(url.searchParams.get("includeObject")),
      printer: t.printer,
    });
    return encoded(rep, { ...table, metadata });
  }
  if (rep.as) {
    const version = rep.as.version;
    return encoded(rep, {
      kind: "PartialObjectMetadataList",
      apiVersion: `meta.k8s.io/${version}`,
      metadata,
      items: items.map((o) => partialObjectMetadata(o, version)),
    });
  }
  return encoded(rep, { kind: t.info.listKind, apiVersion: apiVersionOf(t.info), metadata, items });
}

/**
 * A whole list in JSON, written around the stored texts of its items: the same body as encoding
 * the parsed list (stored objects carry their apiVersion and kind), without parsing and
 * re-encoding every object.
 */
function storedList(info: ResourceInfo, stored: StoredList): Response {
  const head = JSON.stringify({
    kind: info.listKind,
    apiVersion: apiVersionOf(info),
    metadata: { resourceVersion: stored.resourceVersion },
  });
  const body = `${head.slice(0, -1)},"items":[${stored.items.join(",")}]}`;
  return new Response(body, { headers: { "Content-Type": "application/json" } });
}

/** ListMeta: the revision, and while paging the token and what is left. */
function listMeta(result: ListResult<KubeObject>): Record<string, unknown> {
  return {
    resourceVersion: result.resourceVersion,
    ...(result.continue ? { continue: result.continue } : {}),
    ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
  };
}

function watch(req: Request, url: URL, t: Target, deps: ApiServerDeps): Response {
  const q = url.searchParams;
  const rep = negotiate(req.headers.get("Accept"), true);
  checkTransform(rep, "object");
  const timeout = parseTimeoutSeconds(q.get("timeoutSeconds"));
  const initial = initialEventsOptions(q);
  return watchResponse(deps.client, {
    info: t.info,
    resource: t.resource,
    options: listOptions(url, t.namespace),
    resourceVersion: q.get("resourceVersion") || undefined,
    timeoutSeconds: timeout,
    bookmarks: queryFlag(q.get("allowWatchBookmarks")),
    sendInitialEvents: initial.sendInitialEvents,
    table:
      rep.as?.kind === "Table"
        ? { includeObject: includeObjectParam(q.get("includeObject")), printer: t.printer }
        : undefined,
    partialMetadata: rep.as?.kind === "PartialObjectMetadata" ? rep.as.version : undefined,
    // PartialObjectMetadata is one message for every kind, always encodable. Full objects are
    // streamed in protobuf only to a client that takes nothing else: a later object with a field
    // the descriptions lack would end the stream (and a client-go informer would re-list forever),
    // while JSON carries every field.
    protobuf:
      rep.format === "protobuf" &&
      (rep.as !== undefined || (protobufDescribed(t) && rep.fallback === undefined)),
    signal: req.signal,
    bookmarkIntervalMs: deps.bookmarkIntervalMs,
  });
}

async function get(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const obj = await deps.client.get(t.resource, t.namespace ?? "", t.name!);
  return respondObject(req, url, t, obj);
}

/** Checks the body names this resource and puts the URL's namespace (and name) into it. */
export function objectForTarget(body: unknown, t: Target): KubeObject {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError("BadRequest", `the request body must be a ${t.info.kind} object`);
  }
  const obj = body as KubeObject;
  const expected = apiVersionOf(t.info);
  if (obj.kind && obj.kind !== t.info.kind) {
    throw new ApiError(
      "BadRequest",
      `the kind in the body (${obj.kind}) does not match the resource ${t.resource} (kind ${t.info.kind})`,
    );
  }
  if (obj.apiVersion && obj.apiVersion !== expected && !isLegacyFor(obj.apiVersion, t.info)) {
    throw new ApiError(
      "BadRequest",
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  if (
    obj.metadata !== undefined &&
    (obj.metadata === null || typeof obj.metadata !== "object" || Array.isArray(obj.metadata))
  ) {
    throw new ApiError(
      "BadRequest",
      `${t.info.kind} in version "${t.info.version}" cannot be handled as a ${t.info.kind}: json: cannot unmarshal ${Array.isArray(obj.metadata) ? "array" : typeof obj.metadata} into Go struct field .metadata of type v1.ObjectMeta`,
    );
  }
  // An old apiVersion is left for the registry, which converts it with that version's defaults
  // and warns.
  if (!obj.apiVersion || !isLegacyFor(obj.apiVersion, t.info)) obj.apiVersion = expected;
  obj.kind = t.info.kind;
  obj.metadata ??= {};
  if (t.info.namespaced) {
    const ns = obj.metadata.namespace;
    if (ns && t.namespace && ns !== t.namespace) {
      throw new ApiError(
        "BadRequest",
        `the namespace of the provided object (${ns}) does not match the namespace sent on the request (${t.namespace})`,
      );
    }
    obj.metadata.namespace = t.namespace ?? ns;
  }
  if (t.name) {
    if (obj.metadata.name && obj.metadata.name !== t.name) {
      throw new ApiError(
        "BadRequest",
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    }
    obj.metadata.name = t.name;
  }
  return obj;
}

function isLegacyFor(apiVersion: string, info: ResourceInfo): boolean {
  return (
    ["extensions/v1beta1", "apps/v1beta1", "apps/v1beta2", "autoscaling/v1"].includes(apiVersion) &&
    info.group !== ""
  );
}

async function create(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  if (t.info.namespaced && t.namespace === undefined) {
    throw new ApiError(
      "BadRequest",
      `${t.resource} is namespaced: POST to /namespaces/<namespace>/${t.info.plural}`,
    );
  }
  const obj = objectForTarget(await readBody(req), { ...t, name: undefined });
  const warnings: string[] = [];
  const created = await deps.client.create(t.resource, obj, writeOptions(url, warnings, req));
  return respondObject(req, url, t, created, 201, warnings);
}

async function update(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const obj = objectForTarget(await readBody(req), t);
  const warnings: string[] = [];
  const updated = await deps.client.update(t.resource, obj, writeOptions(url, warnings, req));
  return respondObject(req, url, t, updated, 200, warnings);
}

async function patch(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const type = PATCH_TYPES[mediaType(req)];
  const body = await readBody(req, "patch");
  const warnings: string[] = [];
  const options = writeOptions(url, warnings, req);
  // Apply names its manager explicitly; the User-Agent stands in only for the other writes.
  if (type === "apply" && !url.searchParams.get("fieldManager")) {
    throw new ApiError(
      "BadRequest",
      "fieldManager is required for apply requests: add ?fieldManager=<your-tool>",
    );
  }
  // Server-side apply creates a missing object; say 201 then, as kube-apiserver does.
  const existed = type === "apply" ? await deps.client.tryGet(t.resource, t.namespace ?? "", t.name!) : true;
  const patched = await deps.client.patch(t.resource, t.namespace ?? "", t.name!, type!, body, options);
  return respondObject(req, url, t, patched, existed ? 200 : 201, warnings);
}

async function remove(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const options = deleteOptions(url, await optionalBody(req));
  const obj = await deps.client.delete(t.resource, t.namespace ?? "", t.name!, options);
  // Still there (graceful deletion, finalizers): the object with its deletionTimestamp.
  if (obj.metadata.deletionTimestamp && !options.dryRun) {
    const still = await deps.client.tryGet(t.resource, t.namespace ?? "", t.name!);
    if (still && still.metadata.uid === obj.metadata.uid) return respondObject(req, url, t, still);
  }
  if (options.dryRun) return respondObject(req, url, t, obj);
  return encoded(
    negotiate(req.headers.get("Accept")),
    successStatus({ name: t.name, group: t.info.group, kind: t.info.plural, uid: obj.metadata.uid }),
  );
}

async function deleteCollection(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const options = deleteOptions(url, await optionalBody(req));
  const { items, resourceVersion } = await deps.client.list(t.resource, listOptions(url, t.namespace));
  const deleted: KubeObject[] = [];
  for (const item of items) {
    try {
      deleted.push(
        await deps.client.delete(t.resource, item.metadata.namespace ?? "", item.metadata.name!, options),
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "NotFound")) throw e;
    }
  }
  return encoded(negotiate(req.headers.get("Accept")), {
    kind: t.info.listKind,
    apiVersion: apiVersionOf(t.info),
    metadata: { resourceVersion },
    items: deleted.map((o) => withKind(o, t.info)),
  });
}

/** DELETE bodies are optional; an empty one means defaults. */
export async function optionalBody(req: Request): Promise<unknown> {
  const bytes = await readBytes(req);
  const text = new TextDecoder().decode(bytes).trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError("BadRequest", `the request body is not valid JSON: ${(e as Error).message}`);
  }
}
