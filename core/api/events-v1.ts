import { ApiError, type StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { applyPatchDocument } from "../patch/apply-patch.ts";
import { findByPlural, resourceKey } from "../resources.ts";
import { mediaType, PATCH_TYPES, readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { ALL_VERBS, type ExtraResource } from "./discovery.ts";
import { withoutProtobuf } from "./negotiation.ts";
import { queryFlag } from "./options.ts";
import { convertResponse, type ServedVersion } from "./response-conversion.ts";
import { handleResource, methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

/**
 * events.k8s.io/v1 Events served over the one core Event storage, as kube-apiserver serves both
 * versions of one resource: fields renamed both ways (note ⇄ message, regarding ⇄
 * involvedObject, reportingController ⇄ reportingComponent, deprecated* ⇄ the old counters),
 * and the stricter validation of the new API on create.
 */
const V1 = "events.k8s.io/v1";
const PATH = /^\/apis\/events\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?events(?:\/([^/]+))?$/;

/** core field → events.k8s.io/v1 field; the rest (eventTime, series, action, reason, type, related, reportingInstance) keep their names. */
const RENAMED: [core: string, v1: string][] = [
  ["message", "note"],
  ["involvedObject", "regarding"],
  ["reportingComponent", "reportingController"],
  ["source", "deprecatedSource"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["count", "deprecatedCount"],
];

export const EVENTS_V1_RESOURCES: ExtraResource[] = (() => {
  const core = findByPlural("", "events");
  return core ? [{ info: { ...core, group: "events.k8s.io", version: "v1" }, verbs: ALL_VERBS }] : [];
})();

export function parseEventsV1Target(pathname: string): Target | undefined {
  const m = PATH.exec(pathname);
  const info = findByPlural("", "events");
  if (!m || !info) return undefined;
  const [, namespace, name] = m.map((s) => (s === undefined ? s : decodeURIComponent(s)));
  return { info, resource: resourceKey(info), namespace, name };
}

const SERVED: ServedVersion = {
  kind: "Event",
  listKind: "EventList",
  apiVersion: V1,
  convert: (obj) => toEventsV1(obj),
};

export async function handleEventsV1(
  request: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  const req = withoutProtobuf(request, SERVED);
  const watch = !t.name && queryFlag(url.searchParams.get("watch"));
  const answer = (res: Response) => convertResponse(res, SERVED, { watch });
  switch (req.method) {
    case "GET":
    case "DELETE":
      return answer(await handleResource(req, url, t, deps));
    case "POST":
    case "PUT": {
      const body = (await readBody(req)) as KubeObject;
      if (body?.apiVersion && body.apiVersion !== V1)
        throw new ApiError(
          "BadRequest",
          `the API version in the data (${body.apiVersion}) does not match ${V1}`,
        );
      if (req.method === "POST") validateCreate(body);
      return answer(await handleResource(asCoreRequest(req, toCoreEvent(body)), url, t, deps));
    }
    case "PATCH":
      return answer(await handleResource(await patchAsUpdate(req, t, deps), url, t, deps));
    default:
      throw methodNotAllowed(req.method, t);
  }
}

/**
 * A patch is written in the v1 field names: applied to the v1 view of the stored event, then
 * sent on as a replace pinned to the revision it was computed from (a race is a 409, as for any
 * update).
 */
async function patchAsUpdate(req: Request, t: Target, deps: ApiServerDeps): Promise<Request> {
  const type = PATCH_TYPES[mediaType(req)];
  const patch = await readBody(req, "patch");
  if (type === "apply")
    throw new ApiError(
      "UnsupportedMediaType",
      `server-side apply of ${V1} events is not supported: use a merge or JSON patch, or the core v1 events`,
    );
  const stored = await deps.client.get(t.resource, t.namespace ?? "", t.name!);
  const patched = applyPatchDocument(type!, toEventsV1(stored), patch, "Event") as KubeObject;
  const core = toCoreEvent(patched);
  core.metadata = { ...core.metadata, resourceVersion: stored.metadata.resourceVersion };
  return asCoreRequest(req, core, "PUT");
}

function asCoreRequest(req: Request, body: KubeObject, method = req.method): Request {
  const headers = new Headers(req.headers);
  headers.set("Content-Type", "application/json");
  return new Request(req.url, { method, headers, body: JSON.stringify(body), signal: req.signal });
}

export function toEventsV1(core: KubeObject): KubeObject {
  const out: Record<string, unknown> = { ...core, apiVersion: V1, kind: "Event" };
  for (const [from, to] of RENAMED) {
    delete out[from];
    const value = (core as Record<string, unknown>)[from];
    if (value !== undefined && value !== "" && value !== null) out[to] = value;
  }
  return out as KubeObject;
}

export function toCoreEvent(v1: KubeObject): KubeObject {
  const out: Record<string, unknown> = { ...v1, apiVersion: "v1", kind: "Event" };
  for (const [to, from] of RENAMED) {
    delete out[from];
    const value = (v1 as Record<string, unknown>)[from];
    if (value !== undefined) out[to] = value;
  }
  // Core requires an involvedObject; an event about nothing names nothing.
  out.involvedObject ??= {};
  return out as KubeObject;
}

/** events.k8s.io/v1's create rules (upstream ValidateEventCreate for the new API). */
function validateCreate(e: KubeObject): void {
  const v = e as Record<string, unknown>;
  const causes: StatusCause[] = [];
  const required = (field: string) =>
    causes.push({ reason: "FieldValueRequired", field, message: "Required value" });
  const invalid = (field: string, message: string) =>
    causes.push({ reason: "FieldValueInvalid", field, message: `Invalid value: "": ${message}` });
  if (!v.eventTime) required("eventTime");
  if (v.type !== "Normal" && v.type !== "Warning")
    invalid("type", `has invalid value: ${String(v.type ?? "")}`);
  if (!v.reportingController) required("reportingController");
  if (!v.reportingInstance) required("reportingInstance");
  if (!v.action) required("action");
  if (!v.reason) required("reason");
  if (typeof v.note === "string" && new TextEncoder().encode(v.note).length > 1024)
    invalid("note", "can have at most 1024 characters");
  for (const field of ["deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"])
    if (v[field]) invalid(field, "needs to be unset");
  const source = v.deprecatedSource as { component?: string; host?: string } | undefined;
  if (source?.component || source?.host) invalid("deprecatedSource", "needs to be unset");
  if (causes.length) throw ApiError.invalid("Event", e.metadata?.name ?? "", causes, "events.k8s.io");
}
