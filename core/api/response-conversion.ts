import { parse, stringify } from "yaml";
import type { KubeObject } from "../object.ts";
import { warningHeader } from "./respond.ts";

/** How the objects of one kind are shown in the version a client asked for. */
export interface ServedVersion {
  kind: string;
  listKind: string;
  apiVersion: string;
  convert(obj: KubeObject): KubeObject;
}

/**
 * An answer of the stored version rewritten into the requested one: the object, the items of
 * a list, Table row objects, or every event of a watch stream; `warning` (a deprecation) added
 * to its `Warning` headers once.
 */
export async function convertResponse(
  res: Response,
  v: ServedVersion,
  options: { watch: boolean; warning?: string },
): Promise<Response> {
  const headers = new Headers(res.headers);
  const w = options.warning;
  if (w && !(headers.get("Warning") ?? "").includes(JSON.stringify(w)))
    headers.append("Warning", warningHeader(w));
  const type = headers.get("Content-Type") ?? "";
  if (res.body && type.startsWith("application/yaml")) {
    const body = convertBody(parse(await res.text()), v);
    return new Response(stringify(body, { sortMapEntries: true }), { status: res.status, headers });
  }
  if (!res.body || !type.startsWith("application/json"))
    return new Response(res.body, { status: res.status, headers });
  if (options.watch) return new Response(convertLines(res.body, v), { status: res.status, headers });
  const body = convertBody(await res.json(), v);
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

/** An object, a list of them, or a Table with row objects, in the served version. */
export function convertBody(body: unknown, v: ServedVersion): unknown {
  if (!body || typeof body !== "object") return body;
  const b = body as KubeObject & { items?: KubeObject[]; rows?: { object?: KubeObject }[] };
  if (b.kind === v.kind) return v.convert(b);
  if (b.kind === v.listKind)
    return { ...b, apiVersion: v.apiVersion, items: b.items?.map((o) => v.convert(o)) };
  if (b.kind === "Table" && b.rows)
    return {
      ...b,
      rows: b.rows.map((r) => (r.object?.kind === v.kind ? { ...r, object: v.convert(r.object) } : r)),
    };
  return body;
}

/** A watch stream (one JSON event per line), each event's object converted. */
function convertLines(body: ReadableStream<Uint8Array>, v: ServedVersion): ReadableStream<Uint8Array> {
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
