import { ApiError } from "../errors.ts";
import type { KubeObject, WatchEvent } from "../object.ts";
import { apiVersionOf, type ResourceInfo } from "../resources.ts";
import type { Client, ListOptions } from "../seams/client.ts";
import { PROTOBUF_WATCH, partialObjectMetadata } from "./negotiation.ts";
import type { Printer } from "./printers/index.ts";
import { encodeWatchEvent } from "./protobuf/encode.ts";
import { toApiError } from "./respond.ts";
import { type IncludeObject, toTable } from "./table.ts";
import { WATCH_BUFFER_BYTES, watchLifetimeMs } from "./watch-limits.ts";
import { INITIAL_EVENTS_END } from "./watch-list.ts";

export interface WatchRequest {
  info: ResourceInfo;
  resource: string;
  options: ListOptions;
  /** undefined or "0": the client (registry) starts with one synthetic ADDED per existing object. */
  resourceVersion?: string;
  timeoutSeconds?: number;
  /** The jittered server-side maximum (watch-limits.ts); tests pass a small one. */
  minLifetimeSeconds?: number;
  /** Unsent bytes after which a watcher that stopped reading is closed. */
  bufferBytes?: number;
  bookmarks: boolean;
  /** WatchList: the current objects as ADDED, then the initial-events-end bookmark, then changes. */
  sendInitialEvents?: boolean;
  table?: { includeObject: IncludeObject; printer?: Printer };
  /** meta.k8s.io version of PartialObjectMetadata event objects (`as=PartialObjectMetadata`). */
  partialMetadata?: string;
  /** Events as length-prefixed protobuf frames instead of JSON lines. */
  protobuf?: boolean;
  /** Aborts when the client goes away. */
  signal?: AbortSignal;
  bookmarkIntervalMs?: number;
}

type Line = { type: WatchEvent["type"] | "BOOKMARK" | "ERROR"; object: unknown };

/**
 * A watch as newline-delimited JSON events. The stream starts with a newline so the 200 and its
 * headers go out before any event: `kubectl rollout status` hangs on a watch whose headers are held back.
 */
export function watchResponse(client: Client, w: WatchRequest): Response {
  const encoder = new TextEncoder();
  let stop: (() => void) | undefined;
  let closed = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const intervals: ReturnType<typeof setInterval>[] = [];
  const clearTimers = () => {
    for (const t of timers) clearTimeout(t);
    for (const t of intervals) clearInterval(t);
  };
  let lastRv = w.resourceVersion && w.resourceVersion !== "0" ? w.resourceVersion : "0";
  let sentColumns = false;

  const bufferBytes = w.bufferBytes ?? WATCH_BUFFER_BYTES;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const finish = () => {
          if (closed) return;
          closed = true;
          clearTimers();
          stop?.();
          try {
            controller.close();
          } catch {}
        };
        const send = (line: Line) => {
          if (closed) return;
          try {
            const frame = w.protobuf ? encodeWatchEvent(line.type, line.object) : undefined;
            if (w.protobuf && !frame) {
              controller.enqueue(unencodableFrame(line.object));
              return finish();
            }
            controller.enqueue(frame ?? encoder.encode(`${JSON.stringify(line)}\n`));
            // desiredSize goes negative by the bytes the client has not taken yet: cut it off,
            // dropping what is queued (the client re-lists or resumes from its last version)
            if ((controller.desiredSize ?? 0) < 0) {
              controller.error(new Error("watch closed: the client fell behind"));
              finish();
            }
          } catch {
            finish();
          }
        };
        const emit = (event: WatchEvent) => {
          const rv = event.object.metadata.resourceVersion;
          if (rv) lastRv = rv;
          send({ type: event.type, object: render(event.object) });
        };
        const render = (obj: KubeObject): unknown => {
          if (w.partialMetadata) return partialObjectMetadata(obj, w.partialMetadata);
          if (!w.table) return obj;
          const table = toTable(w.resource, [obj], obj.metadata.resourceVersion ?? lastRv, {
            includeObject: w.table.includeObject,
            noHeaders: sentColumns,
            printer: w.table.printer,
          });
          sentColumns = true;
          return table;
        };
        // Bun sends the header block only with the first body bytes. A newline is whitespace to
        // every JSON stream decoder (Go's json.Decoder skips it), and it gets the 200 out now.
        // A protobuf stream has no such filler: a BOOKMARK at the version asked for (a no-op to
        // client-go's decoder and reflector) gets its headers out; from "0" the first ADDED does.
        if (!w.protobuf) controller.enqueue(encoder.encode("\n"));
        else if (lastRv !== "0" && !w.sendInitialEvents) send(bookmarkAt(w, lastRv));
        w.signal?.addEventListener("abort", finish);
        timers.push(setTimeout(finish, watchLifetimeMs(w.timeoutSeconds, w.minLifetimeSeconds)));
        if (w.bookmarks) {
          // only once a resourceVersion is known: a bookmark at "0" would make an informer re-list
          const bookmark = () => lastRv !== "0" && send(bookmarkAt(w, lastRv));
          intervals.push(setInterval(bookmark, w.bookmarkIntervalMs ?? 30_000));
        }
        void (async () => {
          try {
            let from = w.resourceVersion;
            if (w.sendInitialEvents) {
              // NotOlderThan: the current state is at least as new as any version asked for.
              const listed = await client.list(w.resource, w.options);
              for (const object of listed.items) emit({ type: "ADDED", object: withKind(object, w.info) });
              from = lastRv = listed.resourceVersion;
              send({ type: "BOOKMARK", object: initialEventsEnd(w, lastRv) });
            } else if (w.sendInitialEvents === false && (!from || from === "0")) {
              // sendInitialEvents=false: no synthetic ADDED events, changes from the newest state on
              from = lastRv = (await client.list(w.resource, w.options)).resourceVersion;
            }
            const unsubscribe = await client.watch(
              w.resource,
              { ...w.options, resourceVersion: from },
              (event) => emit({ type: event.type, object: withKind(event.object, w.info) }),
            );
            if (closed) unsubscribe();
            else stop = unsubscribe;
          } catch (e) {
            const err = toApiError(e);
            const status = err.toStatus();
            send({
              type: "ERROR",
              object: err.reason === "Gone" ? { ...status, reason: "Expired" } : status,
            });
            finish();
          }
        })();
      },
      cancel() {
        closed = true;
        clearTimers();
        stop?.();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: bufferBytes }),
  );
  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": w.protobuf ? PROTOBUF_WATCH : "application/json",
      "Cache-Control": "no-cache, private",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

/**
 * A protobuf event frame; an object with a field the message descriptions lack cannot be sent
 * without losing it, so the stream ends with an ERROR event naming why (the client re-lists).
 */
function unencodableFrame(object: unknown): Uint8Array {
  const status = new ApiError(
    "InternalError",
    `${describe(object)} has fields minik cannot encode in protobuf: watch with Accept: application/json`,
  ).toStatus();
  return encodeWatchEvent("ERROR", status)!;
}

function describe(obj: unknown): string {
  const o = obj as { kind?: string; metadata?: { name?: string } };
  return `${o.kind ?? "object"} ${o.metadata?.name ?? ""}`.trim();
}

function bookmarkAt(w: WatchRequest, resourceVersion: string): Line {
  return {
    type: "BOOKMARK",
    object: { kind: w.info.kind, apiVersion: apiVersionOf(w.info), metadata: { resourceVersion } },
  };
}

/** The bookmark that ends a WatchList's initial events, at the revision they are the state of. */
function initialEventsEnd(w: WatchRequest, resourceVersion: string): KubeObject {
  const metadata = { resourceVersion, annotations: { [INITIAL_EVENTS_END]: "true" } };
  if (w.partialMetadata)
    return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${w.partialMetadata}`, metadata };
  return { kind: w.info.kind, apiVersion: apiVersionOf(w.info), metadata };
}

/** Objects in lists may lack apiVersion/kind; every watch event object must carry them. */
export function withKind(obj: KubeObject, info: ResourceInfo): KubeObject {
  if (obj.apiVersion && obj.kind) return obj;
  return { ...obj, apiVersion: obj.apiVersion || apiVersionOf(info), kind: obj.kind || info.kind };
}
