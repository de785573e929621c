import type { Socket as BunSocket } from "bun";
import type { Hono } from "hono";
import type { ServerEnv, Socket, SocketHandler } from "../../core/api/socket.ts";
import {
  isLoopback,
  type Platform,
  type RunningServer,
  type ServeOptions,
  serverUrlOf,
  type TcpRelay,
} from "./platform.ts";

/** minik on Bun: the compiled binary and `bun cmd/main.ts`. */
export const bunPlatform: Platform = {
  name: "bun",
  nodeRuntime: true,
  serve,
  sleep: (ms) => Bun.sleep(ms),
  readStdin: () => new Response(Bun.stdin.stream()).text(),
  relayTcp,
  collectGarbage: () => Bun.gc(true),
};

interface SocketData {
  handler: SocketHandler;
  messages: ((data: Uint8Array) => void)[];
  closes: (() => void)[];
  /** Messages that arrived before the handler subscribed. */
  pending: Uint8Array[];
}

/** Binds the API app to Bun.serve, and Bun's WebSocket to the small Socket interface exec and port-forward speak. */
function serve(app: Hono<any>, options: ServeOptions): RunningServer {
  const loopback = isLoopback(options.hostname);
  const origin = (): string => serverUrlOf(options.hostname, server.port as number, !!options.tls);
  const server = Bun.serve<SocketData>({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls ? { tls: options.tls } : {}),
    // watches and `logs -f` stay open for as long as the client wants
    idleTimeout: 0,
    fetch(raw: Request, srv): Response | Promise<Response> {
      // HTTP/1.0 without Host (or an unusable Host) leaves Bun a relative URL: serve it as this listener's
      const req = URL.canParse(raw.url) ? raw : new Request(new URL(raw.url, origin()), raw);
      const env: ServerEnv = {
        loopback,
        upgrade(request, protocol, handler) {
          const ok = srv.upgrade(request, {
            headers: { "Sec-WebSocket-Protocol": protocol },
            data: { handler, messages: [], closes: [], pending: [] },
          });
          return ok ? new Response(null, { status: 101 }) : undefined;
        },
      };
      return app.fetch(req, env);
    },
    websocket: {
      // kubectl pings every 5 s; Bun answers pings itself. Idle sockets are fine (port-forward).
      idleTimeout: 0,
      sendPings: false,
      open(ws) {
        const data = ws.data;
        const socket: Socket = {
          send: (bytes) => {
            ws.sendBinary(bytes);
          },
          close: (code = 1000, reason) => ws.close(code, reason),
          onMessage: (listener) => {
            data.messages.push(listener);
            for (const m of data.pending.splice(0)) listener(m);
          },
          onClose: (listener) => {
            data.closes.push(listener);
          },
        };
        data.handler(socket);
      },
      message(ws, message) {
        const bytes =
          typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
        if (ws.data.messages.length === 0) ws.data.pending.push(bytes);
        for (const l of ws.data.messages) l(bytes);
      },
      close(ws) {
        for (const l of ws.data.closes) l();
      },
    },
  });
  return {
    url: serverUrlOf(options.hostname, server.port as number, !!options.tls),
    hostname: options.hostname,
    port: server.port as number,
    stop: async () => {
      await server.stop(true);
    },
  };
}

type Conn = { sock?: BunSocket<undefined>; queue: Uint8Array[]; closed?: boolean };

function relayTcp(
  listen: { hostname: string; port: number },
  target: { hostname: string; port: number },
): TcpRelay {
  const server = Bun.listen<Conn>({
    hostname: listen.hostname,
    port: listen.port,
    socket: {
      open(client) {
        client.data = { queue: [] };
        Bun.connect({
          hostname: target.hostname,
          port: target.port,
          socket: {
            data: (_s, chunk) => {
              client.write(chunk);
            },
            close: () => {
              client.end();
            },
            error: () => {
              client.end();
            },
          },
        }).then(
          (sock) => {
            if (client.data.closed) return sock.end();
            client.data.sock = sock;
            for (const q of client.data.queue) sock.write(q);
            client.data.queue = [];
          },
          () => client.end(),
        );
      },
      data(client, chunk) {
        if (client.data.sock) client.data.sock.write(chunk);
        else client.data.queue.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.closed = true;
        client.data.sock?.end();
      },
    },
  });
  return { port: server.port, stop: () => server.stop(true) };
}
