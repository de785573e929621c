import type { ServerEnv, Socket } from "../../api/socket.ts";

type Handler = (req: Request, env: ServerEnv) => Response | Promise<Response>;

/**
 * A client WebSocket joined in memory to a hono app's WebSocket upgrade (core/api/socket.ts):
 * what a runtime's WebSocket does over the network, for tests of RemoteNodeServices without a
 * listener. A refused upgrade fires `error` then `close`, as a browser WebSocket does.
 */
export function memoryWebSocket(
  serve: Handler,
  url: string,
  protocols: string[],
  headers: Record<string, string>,
): WebSocket {
  const client = new EventTarget() as EventTarget & {
    readyState: number;
    binaryType: string;
    send(data: Uint8Array): void;
    close(code?: number): void;
  };
  const toServer: ((d: Uint8Array) => void)[] = [];
  const serverClosers: (() => void)[] = [];
  client.readyState = 0;
  client.binaryType = "arraybuffer";
  const shut = () => {
    if (client.readyState === 3) return;
    client.readyState = 3;
    for (const c of serverClosers) c();
    client.dispatchEvent(new Event("close"));
  };
  client.send = (data) => {
    const copy = data.slice();
    queueMicrotask(() => {
      for (const l of toServer) l(copy);
    });
  };
  client.close = shut;
  const server: Socket = {
    send: (d) => {
      const copy = d.slice().buffer;
      queueMicrotask(() => client.dispatchEvent(new MessageEvent("message", { data: copy })));
    },
    close: () => queueMicrotask(shut),
    onMessage: (l) => void toServer.push(l),
    onClose: (l) => void serverClosers.push(l),
  };
  let upgraded = false;
  const env: ServerEnv = {
    upgrade: (_req, _protocol, handler) => {
      upgraded = true;
      queueMicrotask(() => {
        client.readyState = 1;
        client.dispatchEvent(new Event("open"));
        handler(server);
      });
      return new Response(null, { status: 200 });
    },
  };
  const request = new Request(url.replace(/^ws/, "http"), {
    headers: { ...headers, Upgrade: "websocket", "Sec-WebSocket-Protocol": protocols.join(", ") },
  });
  void Promise.resolve(serve(request, env)).then(() => {
    if (upgraded) return;
    client.dispatchEvent(new Event("error"));
    shut();
  });
  return client as unknown as WebSocket;
}
