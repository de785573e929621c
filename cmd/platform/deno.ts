import type { Hono } from "hono";
import type { ServerEnv, Socket, SocketHandler } from "../../core/api/socket.ts";
import type { IngressHandler } from "../../core/seams/ingress-listener.ts";
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

/**
 * minik on Deno (`deno task up`, `deno run -A cmd/main.ts …`): the control plane and the CLI. The
 * node half (runtime/) needs bun:ffi and Bun.spawn, so `nodeRuntime` is false.
 */
export const denoPlatform: Platform = {
  name: "deno",
  nodeRuntime: false,
  serve,
  serveProxy,
  // Deno's fetch drops a Host header set by the caller: pods see their own address as Host
  forward: (url, init) => fetch(url, init),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  readStdin: () => new Response(deno().stdin.readable).text(),
  relayTcp,
  // Deno exposes gc() only with --v8-flags=--expose-gc
  collectGarbage: () => (globalThis as { gc?: () => void }).gc?.(),
  // V8 returns free heap pages itself when idle; a collection is all there is to ask for
  releaseMemory: () => (globalThis as { gc?: () => void }).gc?.(),
};

/** The few Deno APIs used here (the project type-checks against Bun's types only). */
interface DenoConn {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close(): void;
}
interface DenoApi {
  serve(
    options: {
      hostname: string;
      port: number;
      cert?: string;
      key?: string;
      reusePort?: boolean;
      onListen?: () => void;
    },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket(
    req: Request,
    options: { protocol?: string; idleTimeout?: number },
  ): { socket: WebSocket; response: Response };
  stdin: { readable: ReadableStream<Uint8Array> };
  listen(options: { hostname: string; port: number }): AsyncIterable<DenoConn> & {
    addr: { port: number };
    close(): void;
  };
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
}

function deno(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}

function serve(app: Hono<any>, options: ServeOptions): RunningServer {
  const loopback = isLoopback(options.hostname);
  const server = deno().serve(
    {
      hostname: options.hostname,
      port: options.port,
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
      onListen: () => {},
    },
    (req) => {
      const env: ServerEnv = {
        loopback,
        upgrade(request, protocol, handler) {
          // kubectl pings every 5 s and Deno answers; idle port-forward sockets must stay open
          const { socket, response } = deno().upgradeWebSocket(request, { protocol, idleTimeout: 0 });
          bindSocket(socket, handler);
          return response;
        },
      };
      return app.fetch(req, env);
    },
  );
  return {
    url: serverUrlOf(options.hostname, server.addr.port, !!options.tls),
    hostname: options.hostname,
    port: server.addr.port,
    stop: () => server.shutdown(),
  };
}

/**
 * The ingress listener on Deno: one certificate (Deno.serve takes no SNI list), the default one;
 * named hosts still route, they just all see that certificate.
 */
function serveProxy(handler: IngressHandler, options: ProxyServeOptions): RunningProxy {
  const first = options.certificates?.[0];
  const proto = first ? "https" : "http";
  const server = deno().serve(
    {
      hostname: options.hostname,
      port: options.port,
      reusePort: options.reusePort,
      ...(first ? { cert: first.cert, key: first.key } : {}),
      onListen: () => {},
    },
    // WebSocket upgrades are not relayed here (Deno's server has no socket pairing for it yet)
    (req, info) => handler.handle(req, { clientIp: info.remoteAddr.hostname, proto, port: server.addr.port }),
  );
  return {
    url: serverUrlOf(options.hostname, server.addr.port, !!first),
    hostname: options.hostname,
    port: server.addr.port,
    stop: () => server.shutdown(),
    // graceful: resolves once open requests are answered, which nobody needs to wait for
    drain: () => {
      server.shutdown().catch(() => {});
    },
  };
}

/** Binds a Deno WebSocket to the Socket interface once it opens; early messages wait for a listener. */
function bindSocket(ws: WebSocket, handler: SocketHandler): void {
  ws.binaryType = "arraybuffer";
  const messages: ((data: Uint8Array) => void)[] = [];
  const closes: (() => void)[] = [];
  const pending: Uint8Array[] = [];
  ws.onopen = () => {
    const socket: Socket = {
      send: (bytes) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
      },
      close: (code = 1000, reason) => ws.close(code, reason),
      onMessage: (listener) => {
        messages.push(listener);
        for (const m of pending.splice(0)) listener(m);
      },
      onClose: (listener) => {
        closes.push(listener);
      },
    };
    handler(socket);
  };
  ws.onmessage = (event) => {
    const data = event.data as ArrayBuffer | string;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data);
    if (messages.length === 0) pending.push(bytes);
    for (const l of messages) l(bytes);
  };
  ws.onclose = () => {
    for (const l of closes) l();
  };
}

function relayTcp(
  listen: { hostname: string; port: number },
  target: { hostname: string; port: number },
): TcpRelay {
  const listener = deno().listen(listen);
  void (async () => {
    for await (const client of listener) {
      deno()
        .connect(target)
        .then(
          (remote) =>
            Promise.allSettled([
              client.readable.pipeTo(remote.writable),
              remote.readable.pipeTo(client.writable),
            ]),
          () => client.close(),
        );
    }
  })().catch(() => {});
  return { port: listener.addr.port, stop: () => listener.close() };
}
