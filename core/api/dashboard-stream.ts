import type { KubeObject } from "../object.ts";
import { RESOURCES, resourceKey } from "../resources.ts";
import type { Client } from "../seams/client.ts";
import { toApiError } from "./respond.ts";
import type { Socket } from "./socket.ts";
import { withKind } from "./watch.ts";

/**
 * The web page's one live connection: every kind it shows multiplexed over one WebSocket, so ten
 * tabs hold ten sockets instead of thirty watch requests (Chromium allows six per host).
 *
 * The page asks for `?kinds=pods:120,nodes,deployments.apps:118` — a store key and, after a drop
 * or a minik restart, the last resourceVersion it saw of that kind. A kind with a version resumes
 * from there; one without, or whose version was compacted away, gets a `reset` (a fresh list) first.
 * Messages are JSON: `{t:"reset",kind,rv,items}`, `{t:"event",kind,type,object}`, `{t:"ping"}`.
 */
export const DASHBOARD_PROTOCOL = "minik.dashboard.v1";
/** Objects per kind in a reset: the newest, so a flood of events cannot make the page unusable. */
export const RESET_CAP = 2000;
const PING_MS = 20_000;

export type StreamMessage =
  | { t: "reset"; kind: string; rv: string; items: KubeObject[]; truncated?: boolean }
  | { t: "event"; kind: string; type: string; object: KubeObject }
  | { t: "error"; kind: string; message: string }
  | { t: "ping" };

/** Parses `kinds=` into store keys and resume versions; unknown kinds are dropped. */
export function parseKinds(param: string | undefined): Map<string, string | undefined> {
  const known = new Set(RESOURCES.map(resourceKey));
  const kinds = new Map<string, string | undefined>();
  for (const part of (param ?? "").split(",")) {
    const [kind, rv] = part.split(":");
    if (kind && known.has(kind)) kinds.set(kind, rv && /^\d+$/.test(rv) ? rv : undefined);
  }
  return kinds;
}

/** Streams the kinds to the socket until it closes; returns a function that ends it early. */
export function streamKinds(
  client: Client,
  socket: Socket,
  kinds: Map<string, string | undefined>,
): () => void {
  const encoder = new TextEncoder();
  const stops: (() => void)[] = [];
  let closed = false;
  const send = (m: StreamMessage) => {
    if (!closed) socket.send(encoder.encode(JSON.stringify(m)));
  };
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(ping);
    for (const stop of stops.splice(0)) stop();
  };
  const ping = setInterval(() => send({ t: "ping" }), PING_MS);
  socket.onClose(end);

  const follow = async (kind: string, since: string | undefined) => {
    const info = RESOURCES.find((r) => resourceKey(r) === kind)!;
    const onEvent = (type: string, object: KubeObject) =>
      send({ t: "event", kind, type, object: redact(withKind(object, info)) });
    const watchFrom = (rv: string) =>
      client.watch(kind, { resourceVersion: rv }, (e) => onEvent(e.type, e.object));
    let stop: (() => void) | undefined;
    if (since) stop = await watchFrom(since).catch(() => undefined);
    if (!stop) {
      const list = await client.list(kind);
      const items = list.items
        .sort((a, b) => Number(b.metadata.resourceVersion ?? 0) - Number(a.metadata.resourceVersion ?? 0))
        .slice(0, RESET_CAP)
        .map((o) => redact(withKind(o, info)));
      send({ t: "reset", kind, rv: list.resourceVersion, items, truncated: list.items.length > RESET_CAP });
      stop = await watchFrom(list.resourceVersion);
    }
    if (closed) stop();
    else stops.push(stop);
  };
  for (const [kind, since] of kinds) {
    follow(kind, since).catch((e) => {
      send({ t: "error", kind, message: toApiError(e).message });
    });
  }
  return () => {
    end();
    socket.close(1000);
  };
}

/** Secrets travel by name only: their values are fetched when the user asks to see one. */
function redact(obj: KubeObject): KubeObject {
  if (obj.kind !== "Secret") return obj;
  const { data, stringData, ...rest } = obj as KubeObject & {
    data?: Record<string, string>;
    stringData?: unknown;
  };
  const annotations = { ...rest.metadata.annotations };
  delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
  return {
    ...rest,
    metadata: { ...rest.metadata, annotations },
    keys: Object.keys(data ?? {}),
  } as KubeObject;
}
