import { ApiError } from "../errors.ts";
import type { DuplexStream } from "../node-services.ts";
import type { ApiServerDeps } from "./deps.ts";
import { requireNode } from "./logs.ts";
import { methodNotAllowed } from "./rest.ts";
import { isWebSocketUpgrade, offeredProtocols, type ServerEnv, type Socket } from "./socket.ts";
import { type SpdyStream, serveSpdy } from "./spdy/connection.ts";
import type { Target } from "./target.ts";

export const PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

/**
 * pods/<name>/portforward: SPDY/3.1 tunnelled through a WebSocket, as kubectl 1.32 does it. Each
 * forwarded TCP connection is a pair of streams (error + data) sharing a `requestid`; the data
 * stream is joined to a connection into the pod from NodeServices.portForward.
 */
export async function handlePortForward(
  req: Request,
  _url: URL,
  t: Target,
  deps: ApiServerDeps,
  env: ServerEnv,
): Promise<Response> {
  if (req.method !== "GET" && req.method !== "POST") throw methodNotAllowed(req.method, t);
  const node = requireNode(deps);
  await deps.client.get(t.resource, t.namespace ?? "", t.name!);
  if (!isWebSocketUpgrade(req) || !env.upgrade || !offeredProtocols(req).includes(PORT_FORWARD_PROTOCOL)) {
    throw new ApiError(
      "BadRequest",
      `port-forward needs a WebSocket upgrade with subprotocol ${PORT_FORWARD_PROTOCOL} (plain SPDY is not supported)`,
    );
  }
  const dial = (port: number) => node.portForward(t.namespace ?? "", t.name!, port);
  const response = env.upgrade(req, PORT_FORWARD_PROTOCOL, (socket) =>
    runPortForward(socket, dial, `${t.namespace}/${t.name}`),
  );
  if (!response) throw new ApiError("BadRequest", "the WebSocket upgrade failed");
  return response;
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  conn?: DuplexStream;
  done: boolean;
}

export function runPortForward(
  socket: Socket,
  dial: (port: number) => Promise<DuplexStream>,
  podName: string,
): void {
  const pairs = new Map<string, Pair>();
  const finish = (pair: Pair) => {
    if (pair.done) return;
    pair.done = true;
    pair.conn?.close();
    pair.data?.end();
    pair.error?.end();
  };
  serveSpdy(
    socket,
    (stream) => {
      const requestId = stream.headers.get("requestid") ?? "";
      const pair = pairs.get(requestId) ?? { done: false };
      pairs.set(requestId, pair);
      const type = stream.headers.get("streamtype");
      if (type === "error") {
        pair.error = stream;
        if (pair.done) stream.end();
        return;
      }
      if (type !== "data") {
        stream.end();
        return;
      }
      pair.data = stream;
      const port = Number(stream.headers.get("port"));
      const early: Uint8Array[] = [];
      let remoteEnded = false;
      let connected = false;
      stream.onData((d) => {
        if (!connected) early.push(d.slice());
      });
      stream.onEnd(() => {
        remoteEnded = true;
      });
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        pair.error?.write(new TextEncoder().encode(`invalid port "${stream.headers.get("port")}"`));
        finish(pair);
        return;
      }
      void connect(
        pair,
        port,
        early,
        () => remoteEnded,
        () => {
          connected = true;
        },
      );
    },
    () => {
      for (const pair of pairs.values()) finish(pair);
    },
  );

  async function connect(
    pair: Pair,
    port: number,
    early: Uint8Array[],
    remoteEnded: () => boolean,
    onConnected: () => void,
  ) {
    const data = pair.data!;
    let conn: DuplexStream;
    try {
      conn = await dial(port);
    } catch (e) {
      const message = `error forwarding port ${port} to pod ${podName}: ${(e as Error).message}`;
      pair.error?.write(new TextEncoder().encode(message));
      finish(pair);
      return;
    }
    pair.conn = conn;
    if (pair.done) {
      conn.close();
      return;
    }
    const writer = conn.writable.getWriter();
    let chain = Promise.resolve();
    const write = (d: Uint8Array) => {
      chain = chain.then(() => writer.write(d)).catch(() => {});
    };
    onConnected();
    for (const d of early.splice(0)) write(d);
    data.onData((d) => write(d.slice()));
    const closeWrite = () => {
      chain = chain.then(() => writer.close()).catch(() => {});
    };
    if (remoteEnded()) closeWrite();
    else data.onEnd(closeWrite);
    try {
      const reader = conn.readable.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        data.write(value);
      }
    } catch {
      // the pod side reset the connection: end both streams like a close
    }
    finish(pair);
  }
}
