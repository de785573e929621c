import type { Socket as BunSocket } from "bun";
import type { Hono } from "hono";
import type { ServerEnv, Socket, SocketHandler } from "../../core/api/socket.ts";
import type { IngressHandler, IngressRequestInfo } from "../../core/seams/ingress-listener.ts";
import { pageOutFileMappings } from "../../runtime/host/page-out.ts";
import {
  isLoopback,
  type Platform,
  type ProxyServeOptions,
  type RunningProxy,
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
  serveProxy,
  forward: (url, init) => fetch(url, { ...init, decompress: false }),
  sleep: (ms) => Bun.sleep(ms),
  readStdin: () => new Response(Bun.stdin.stream()).text(),
  relayTcp,
  collectGarbage: () => {
    Bun.gc(true);
    // the collector's empty blocks and the allocator's free pages go back too, as the idle
    // trimmer's release does: what stays is what the daemon holds, not where a GC left off
    Bun.shrink();
  },
  releaseMemory: () => {
    Bun.gc(true);
    // returns the collector's empty blocks and the allocator's free pages (−4 MB RSS idle)
    Bun.shrink();
    pageOutFileMappings();
  },
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

/** A client WebSocket of the ingress and the pod's, relayed message by message. */
interface RelayData {
  upstream: WebSocket;
  /** What the pod sent before the client's socket opened. */
  early: (string | ArrayBuffer)[];
}

/**
 * The ingress listener: Bun.serve with SNI certificates, the client's address from the socket;
 * `Upgrade: websocket` requests are paired with a WebSocket to the pod (opened first, so the
 * client gets the subprotocol the pod chose).
 */
function serveProxy(handler: IngressHandler, options: ProxyServeOptions): RunningProxy {
  const certs = options.certificates;
  const proto = certs?.length ? "https" : "http";
  const server = Bun.serve<RelayData>({
    hostname: options.hostname,
    port: options.port,
    reusePort: options.reusePort,
    ...(certs?.length
      ? {
          tls: certs.map((c, i) =>
            i === 0 ? { cert: c.cert, key: c.key } : { serverName: c.serverName, cert: c.cert, key: c.key },
          ),
        }
      : {}),
    // a connection silent this long is closed (nginx closes idle keep-alive after 75 s and gives a
    // pod 60 s to answer); also what lets a drained listener's keep-alive connections go away
    idleTimeout: PROXY_IDLE_SECONDS,
    fetch(raw, srv) {
      const port = srv.port as number;
      // HTTP/1.0 without Host leaves Bun a relative URL: the router then sees no host (404 or default backend)
      const req = URL.canParse(raw.url)
        ? raw
        : new Request(new URL(raw.url, `${proto}://127.0.0.1:${port}`), raw);
      const info = { clientIp: srv.requestIP(raw)?.address ?? "", proto, port } as const;
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket")
        return relayUpgrade(handler, req, srv, info);
      return handler.handle(req, info);
    },
    websocket: {
      idleTimeout: 0,
      open(ws) {
        const { upstream, early } = ws.data;
        for (const m of early.splice(0)) ws.send(m);
        upstream.onmessage = (e) => ws.send(e.data as string | ArrayBuffer);
        upstream.onclose = (e) => ws.close(closeCode(e.code), e.reason);
        // the pod may have hung up while the client's handshake was answered
        if (upstream.readyState >= WebSocket.CLOSING) ws.close(1000, "the pod closed the WebSocket");
      },
      message(ws, message) {
        if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(message);
      },
      close(ws, code, reason) {
        ws.data.upstream.close(closeCode(code), reason);
      },
    },
  });
  return {
    url: serverUrlOf(options.hostname, server.port as number, proto === "https"),
    hostname: options.hostname,
    port: server.port as number,
    stop: async () => {
      await server.stop(true);
    },
    drain: () => {
      // resolves only once the last connection closes: nobody waits for that
      server.stop(false).catch(() => {});
    },
  };
}

const PROXY_IDLE_SECONDS = 120;

/** How long the pod gets to accept a WebSocket before the client is told 502. */
const UPSTREAM_OPEN_MS = 10_000;

async function relayUpgrade(
  handler: IngressHandler,
  req: Request,
  srv: import("bun").Server<RelayData>,
  info: IngressRequestInfo,
): Promise<Response | undefined> {
  const target = handler.upgradeTarget(req, info);
  if (target instanceof Response) return target;
  const upstream = new WebSocket(target.url, {
    protocols: target.protocols,
    headers: Object.fromEntries(target.headers),
  } as unknown as string[]);
  upstream.binaryType = "arraybuffer";
  const early: (string | ArrayBuffer)[] = [];
  upstream.onmessage = (e) => early.push(e.data as string | ArrayBuffer);
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), UPSTREAM_OPEN_MS);
    upstream.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    upstream.onerror = upstream.onclose = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
  if (!opened) {
    upstream.close();
    return new Response(`502 Bad Gateway: the pod at ${target.url} did not accept the WebSocket\n`, {
      status: 502,
    });
  }
  upstream.onerror = upstream.onclose = null;
  const ok = srv.upgrade(req, {
    headers: upstream.protocol ? { "Sec-WebSocket-Protocol": upstream.protocol } : {},
    data: { upstream, early },
  });
  if (ok) return undefined;
  upstream.close();
  return new Response("400 Bad Request: not a WebSocket handshake\n", { status: 400 });
}

/** 1005/1006 describe a close, they cannot be sent: pass them on as a normal close. */
function closeCode(code: number): number {
  return code === 1000 ||
    (code >= 3000 && code < 5000) ||
    (code > 1000 && code < 1004) ||
    (code >= 1007 && code <= 1014)
    ? code
    : 1000;
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
