import type { Hono } from "hono";
import type { ServerEnv, Socket, SocketHandler } from "../core/api/socket.ts";

/**
 * The one place that holds Bun.serve: binds the runtime-neutral API app (core/api) to a listening
 * socket, and Bun's WebSocket to the small Socket interface exec and port-forward speak.
 */
export interface RunningServer {
  url: string;
  hostname: string;
  port: number;
  stop(): Promise<void>;
}

interface SocketData {
  handler: SocketHandler;
  messages: ((data: Uint8Array) => void)[];
  closes: (() => void)[];
  /** Messages that arrived before the handler subscribed. */
  pending: Uint8Array[];
}

export interface ServeOptions {
  hostname: string;
  port: number;
  /**
   * PEM certificate and key. kubectl sends credentials (the bearer token) only over TLS, so a
   * token-protected server must use it; plain HTTP suits anonymous loopback access only.
   */
  tls?: { cert: string; key: string };
}

export function serve(app: Hono<any>, options: ServeOptions): RunningServer {
  const loopback = isLoopback(options.hostname);
  const listenHost = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const origin = `${options.tls ? "https" : "http"}://${listenHost}:${options.port}`;
  const server = Bun.serve<SocketData>({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls ? { tls: options.tls } : {}),
    // watches and `logs -f` stay open for as long as the client wants
    idleTimeout: 0,
    fetch(raw, srv) {
      // HTTP/1.0 without Host (or an unusable Host) leaves Bun a relative URL: serve it as this listener's
      const req = URL.canParse(raw.url) ? raw : new Request(new URL(raw.url, origin), raw);
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
    url: `${options.tls ? "https" : "http"}://${listenHost}:${server.port}`,
    hostname: options.hostname,
    port: server.port as number,
    stop: async () => {
      await server.stop(true);
    },
  };
}

export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\./.test(hostname);
}
