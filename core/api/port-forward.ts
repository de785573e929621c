import { ApiError } from "../errors.ts";
import type { DuplexStream } from "../seams/node-services.ts";
import { type PodRouteDeps, requireNode } from "./logs.ts";
import { methodNotAllowed } from "./rest.ts";
import { isWebSocketUpgrade, offeredProtocols, type ServerEnv, type Socket } from "./socket.ts";
import { type SpdyStream, serveSpdy } from "./spdy/connection.ts";
import type { Target } from "./target.ts";

export const PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
/** The older channel protocol client libraries (client-node, python) use, with `?ports=`. */
const CHANNEL_PROTOCOLS = ["v4.channel.k8s.io", "channel.k8s.io"];
/** Messages kept per connection while the pod's connection opens (bounded: a client that floods waits). */
const MAX_EARLY_MESSAGES = 256;

/**
 * pods/<name>/portforward over a WebSocket: SPDY/3.1 tunnelled inside it, as kubectl 1.32 does
 * it (each forwarded TCP connection is a pair of streams, error + data, sharing a `requestid`),
 * or the channel protocol of client libraries (one connection per `ports` entry). Either way the
 * data is joined to a connection into the pod from NodeServices.portForward.
 */
export async function handlePortForward(
  req: Request,
  url: URL,
  t: Target,
  deps: PodRouteDeps,
  env: ServerEnv,
): Promise<Response> {
  if (req.method !== "GET" && req.method !== "POST") throw methodNotAllowed(req.method, t);
  const node = requireNode(deps);
  await deps.client.get(t.resource, t.namespace ?? "", t.name!);
  const offered = offeredProtocols(req);
  const channel = CHANNEL_PROTOCOLS.find((p) => offered.includes(p));
  const ports = [...url.searchParams.getAll("ports"), ...url.searchParams.getAll("port")].flatMap((p) =>
    p.split(","),
  );
  const usable = offered.includes(PORT_FORWARD_PROTOCOL) || (channel && ports.length > 0);
  if (!isWebSocketUpgrade(req) || !env.upgrade || !usable) {
    throw new ApiError(
      "BadRequest",
      `port-forward needs a WebSocket upgrade with subprotocol ${PORT_FORWARD_PROTOCOL}, or ${CHANNEL_PROTOCOLS[0]} with ?ports= (plain SPDY is not supported)`,
    );
  }
  const dial = (port: number) => node.portForward(t.namespace ?? "", t.name!, port);
  const name = `${t.namespace}/${t.name}`;
  const response = offered.includes(PORT_FORWARD_PROTOCOL)
    ? env.upgrade(req, PORT_FORWARD_PROTOCOL, (socket) => runPortForward(socket, dial, name))
    : env.upgrade(req, channel!, (socket) => runChannelPortForward(socket, dial, ports.map(parsePort), name));
  if (!response) throw new ApiError("BadRequest", "the WebSocket upgrade failed");
  return response;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ApiError("BadRequest", `invalid port "${text}": use a number from 1 to 65535`);
  }
  return port;
}

/**
 * The channel protocol: port i uses channel 2i for data and 2i+1 for errors; each channel's first
 * message is the port number (uint16, little-endian). The socket closes when every connection has.
 */
export function runChannelPortForward(
  socket: Socket,
  dial: (port: number) => Promise<DuplexStream>,
  ports: number[],
  podName: string,
): void {
  const writers = new Map<number, WritableStreamDefaultWriter<Uint8Array>>();
  const conns: DuplexStream[] = [];
  let open = ports.length;
  let closed = false;
  const send = (channel: number, data: Uint8Array) => {
    if (closed) return;
    const frame = new Uint8Array(data.byteLength + 1);
    frame[0] = channel;
    frame.set(data, 1);
    socket.send(frame);
  };
  const done = () => {
    if (--open === 0 && !closed) {
      closed = true;
      socket.close(1000);
    }
  };
  socket.onClose(() => {
    closed = true;
    for (const c of conns) c.close();
  });
  // data that arrives before the pod's connection is open waits for it (a relay sends at once)
  const early = new Map<number, Uint8Array[]>();
  socket.onMessage((data) => {
    if (data.byteLength <= 1) return;
    const writer = writers.get(data[0]!);
    if (writer) writer.write(data.slice(1)).catch(() => {});
    else if (data[0]! % 2 === 0 && data[0]! < 2 * ports.length) {
      const queue = early.get(data[0]!) ?? [];
      if (queue.length < MAX_EARLY_MESSAGES) queue.push(data.slice(1));
      early.set(data[0]!, queue);
    }
  });
  ports.forEach((port, i) => {
    const portBytes = new Uint8Array([port & 0xff, port >> 8]);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    void (async () => {
      try {
        const conn = await dial(port);
        conns.push(conn);
        const writer = conn.writable.getWriter();
        for (const chunk of early.get(2 * i) ?? []) writer.write(chunk).catch(() => {});
        early.delete(2 * i);
        writers.set(2 * i, writer);
        const reader = conn.readable.getReader();
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          send(2 * i, value);
        }
      } catch (e) {
        send(
          2 * i + 1,
          new TextEncoder().encode(
            `error forwarding port ${port} to pod ${podName}: ${(e as Error).message}`,
          ),
        );
      }
      done();
    })();
  });
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
