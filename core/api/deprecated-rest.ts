import {
  DEPRECATED_VERSIONS,
  type DeprecatedVersion,
  deprecationWarning,
  fromStored,
} from "../deprecated-versions.ts";
import type { KubeObject } from "../object.ts";
import { findByKind, resourceKey } from "../resources.ts";
import type { ApiServerDeps } from "./deps.ts";
import { ALL_VERBS, type ExtraResource } from "./discovery.ts";
import { queryFlag } from "./options.ts";
import { statusResponse, warningHeader } from "./respond.ts";
import { handleResource } from "./rest.ts";
import { handleScale, handleStatus } from "./subresources.ts";
import type { Target } from "./target.ts";

/**
 * REST for the deprecated Deployment versions (core/deprecated-versions.ts): the request runs
 * against the stored apps/v1 resource (a body in the old version is converted by the registry,
 * with that version's defaults), the answer is converted back, and every answer carries the
 * deprecation `Warning`, as kube-apiserver 1.15 did.
 */
export const DEPRECATED_RESOURCES: ExtraResource[] = DEPRECATED_VERSIONS.map((v) => ({
  info: v.info,
  verbs: ALL_VERBS,
}));

const PATH = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

export interface DeprecatedTarget {
  version: DeprecatedVersion;
  /** The same request on the stored resource. */
  stored: Target;
}

export function parseDeprecatedTarget(pathname: string): DeprecatedTarget | undefined {
  const m = PATH.exec(pathname);
  if (!m) return undefined;
  const [, group, version, namespace, plural, name, subresource] = m.map((s) =>
    s === undefined ? s : decodeURIComponent(s),
  );
  const v = DEPRECATED_VERSIONS.find(
    (d) => d.info.group === group && d.info.version === version && d.info.plural === plural,
  );
  const stored = v && findByKind(v.storedAs, v.info.kind);
  if (!v || !stored) return undefined;
  return {
    version: v,
    stored: { info: stored, resource: resourceKey(stored), namespace, name, subresource },
  };
}

export async function handleDeprecated(
  req: Request,
  url: URL,
  t: DeprecatedTarget,
  deps: ApiServerDeps,
): Promise<Response> {
  const warning = deprecationWarning(t.version);
  let res: Response;
  try {
    res = await dispatch(req, url, t.stored, deps);
  } catch (e) {
    // errors keep their Status; the warning still goes with them
    res = statusResponse(e);
  }
  const headers = new Headers(res.headers);
  if (!(headers.get("Warning") ?? "").includes(JSON.stringify(warning)))
    headers.append("Warning", warningHeader(warning));
  if (!res.body || !(headers.get("Content-Type") ?? "").startsWith("application/json"))
    return new Response(res.body, { status: res.status, headers });
  if (t.stored.name === undefined && queryFlag(url.searchParams.get("watch"))) {
    return new Response(convertLines(res.body, t.version), { status: res.status, headers });
  }
  const body = convertBody(await res.json(), t.version);
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

function dispatch(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  if (t.subresource === "status") return handleStatus(req, url, t, deps);
  if (t.subresource === "scale") return handleScale(req, url, t, deps);
  return handleResource(req, url, t, deps);
}

/** An object, a list of them, or a Table with row objects, in the old version. */
export function convertBody(body: unknown, v: DeprecatedVersion): unknown {
  if (!body || typeof body !== "object") return body;
  const b = body as KubeObject & { items?: KubeObject[]; rows?: { object?: KubeObject }[] };
  if (b.kind === v.info.kind) return fromStored(v, b);
  if (b.kind === v.info.listKind)
    return {
      ...b,
      apiVersion: `${v.info.group}/${v.info.version}`,
      items: b.items?.map((o) => fromStored(v, o)),
    };
  if (b.kind === "Table" && b.rows)
    return {
      ...b,
      rows: b.rows.map((r) =>
        r.object?.kind === v.info.kind ? { ...r, object: fromStored(v, r.object) } : r,
      ),
    };
  return body;
}

/** A watch stream (one JSON event per line), each event's object converted. */
function convertLines(body: ReadableStream<Uint8Array>, v: DeprecatedVersion): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = "";
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          if (!line.trim()) {
            controller.enqueue(encoder.encode("\n"));
            continue;
          }
          const event = JSON.parse(line) as { type: string; object: unknown };
          const object = event.type === "ERROR" ? event.object : convertBody(event.object, v);
          controller.enqueue(encoder.encode(`${JSON.stringify({ ...event, object })}\n`));
        }
      },
      flush(controller) {
        if (pending.trim()) controller.enqueue(encoder.encode(pending));
      },
    }),
  );
}
