import { CHANNEL } from "../api/exec.ts";
import { ApiError } from "../errors.ts";
import type { ExecOptions, ExecSession } from "../seams/container-runtime.ts";
import type { ContainerInspection } from "../seams/inspection.ts";
import type { DuplexStream, NodeServices } from "../seams/node-services.ts";
import { apiErrorFrom } from "./api-error-from.ts";

/** How a server reaches one joined node's node API. */
export interface RemoteNodeOptions {
  nodeName: string;
  /** e.g. https://10.0.0.2:10250 (the Node's InternalIP and daemonEndpoints.kubeletEndpoint.Port). */
  url: string;
  /** Sent as `Authorization: Bearer …` (core/auth/node-token.ts nodeApiCredential). */
  credential: string;
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** Opens a WebSocket with these subprotocols and request headers (the platform's, for the node's certificate). */
  openSocket: (url: string, protocols: string[], headers: Record<string, string>) => WebSocket;
}

/** How long a node gets to accept a WebSocket. */
const OPEN_TIMEOUT_MS = 10_000;

/**
 * NodeServices of a joined node, by calling its node API (core/api/node-api.ts) with the same
 * paths and wire the API server itself serves: logs as a plain stream, exec and attach as the
 * v5.channel.k8s.io WebSocket, port-forward as the v4.channel.k8s.io WebSocket with ?ports=.
 */
export function createRemoteNodeServices(o: RemoteNodeOptions): NodeServices {
  const podPath = (ns: string, pod: string, sub: string) =>
    `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/${sub}`;
  const unreachable = (e: unknown) =>
    new ApiError(
      "ServiceUnavailable",
      `cannot reach the node API of node ${o.nodeName} at ${o.url}: ${(e as Error).message}`,
    );
  const notServed = (what: string) =>
    new ApiError("BadRequest", `${what} of pods on joined node ${o.nodeName} is not served by its node API`);

  /** A GET of the node API; a non-2xx answer is its Status as an ApiError. */
  async function get(url: URL, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await o.fetch(url.toString(), { headers: { Authorization: `Bearer ${o.credential}` }, signal });
    } catch (e) {
      throw unreachable(e);
    }
    if (!res.ok) throw await apiErrorFrom(res);
    return res;
  }

  async function socket(path: string, query: URLSearchParams, protocol: string): Promise<NodeSocket> {
    const url = new URL(path, o.url.replace(/^http/, "ws"));
    url.search = query.toString();
    let ws: WebSocket;
    try {
      ws = o.openSocket(url.toString(), [protocol], { Authorization: `Bearer ${o.credential}` });
    } catch (e) {
      throw unreachable(e);
    }
    ws.binaryType = "arraybuffer";
    // what arrives before the caller listens (the port-forward's port frames) is kept for it
    const early: Uint8Array[] = [];
    let closed = false;
    const keep = (e: MessageEvent) => early.push(new Uint8Array(e.data as ArrayBuffer));
    ws.addEventListener("message", keep);
    ws.addEventListener("close", () => {
      closed = true;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(unreachable(new Error(`no WebSocket within ${OPEN_TIMEOUT_MS / 1000} s`)));
      }, OPEN_TIMEOUT_MS);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener("error", () => {
        clearTimeout(timer);
        reject(unreachable(new Error("the node refused the WebSocket (is the pod's container running?)")));
      });
    });
    return {
      ws,
      listen(onMessage, onClose) {
        ws.removeEventListener("message", keep);
        for (const data of early) onMessage(data);
        ws.addEventListener("message", (e) => onMessage(new Uint8Array(e.data as ArrayBuffer)));
        if (closed) onClose();
        else ws.addEventListener("close", onClose);
      },
    };
  }

  async function session(path: string, query: URLSearchParams, options: ExecOptions): Promise<ExecSession> {
    query.set("stdout", "true");
    query.set("stderr", options.tty ? "false" : "true");
    query.set("stdin", options.stdin ? "true" : "false");
    query.set("tty", options.tty ? "true" : "false");
    const s = execSession(await socket(path, query, "v5.channel.k8s.io"), options.tty);
    if (options.tty && options.size) s.resize(options.size.cols, options.size.rows);
    return s;
  }

  return {
    async logs(namespace, pod, container, options) {
      const url = new URL(podPath(namespace, pod, "log"), o.url);
      const q = url.searchParams;
      if (container) q.set("container", container);
      if (options.follow) q.set("follow", "true");
      if (options.previous) q.set("previous", "true");
      if (options.timestamps) q.set("timestamps", "true");
      if (options.tailLines !== undefined) q.set("tailLines", String(options.tailLines));
      if (options.limitBytes !== undefined) q.set("limitBytes", String(options.limitBytes));
      if (options.sinceSeconds !== undefined) q.set("sinceSeconds", String(options.sinceSeconds));
      const res = await get(url, options.signal);
      return res.body ?? new ReadableStream({ start: (c) => c.close() });
    },
    exec(namespace, pod, container, command, options) {
      const q = new URLSearchParams();
      for (const arg of command) q.append("command", arg);
      if (container) q.set("container", container);
      return session(podPath(namespace, pod, "exec"), q, options);
    },
    attach(namespace, pod, container, options) {
      const q = new URLSearchParams();
      if (container) q.set("container", container);
      return session(podPath(namespace, pod, "attach"), q, options);
    },
    async portForward(namespace, pod, port) {
      const q = new URLSearchParams({ ports: String(port) });
      return forwardStream(await socket(podPath(namespace, pod, "portforward"), q, "v4.channel.k8s.io"));
    },
    async podStats() {
      return [];
    },
    async nodeStats() {
      throw notServed("Node stats");
    },
    async inspect(namespace, pod, container) {
      const url = new URL(
        `/minik/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/inspect`,
        o.url,
      );
      if (container) url.searchParams.set("container", container);
      return (await (await get(url)).json()) as ContainerInspection;
    },
  };
}

/** The client side of runExec (core/api/exec.ts): channel frames to streams, channel 3 to an exit code. */
/** A node API WebSocket, opened, whose messages so far wait for `listen`. */
interface NodeSocket {
  ws: WebSocket;
  listen(onMessage: (data: Uint8Array) => void, onClose: () => void): void;
}

function execSession({ ws, listen }: NodeSocket, tty: boolean): ExecSession {
  const stdout = pushStream();
  const stderr = tty ? undefined : pushStream();
  let settle: { resolve: (code: number) => void; reject: (e: Error) => void };
  const exited = new Promise<number>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const send = (channel: number, payload: Uint8Array) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const frame = new Uint8Array(payload.byteLength + 1);
    frame[0] = channel;
    frame.set(payload, 1);
    ws.send(frame);
  };
  const finish = () => {
    stdout.close();
    stderr?.close();
  };
  const onMessage = (data: Uint8Array) => {
    if (data.byteLength === 0) return;
    const payload = data.slice(1);
    if (data[0] === CHANNEL.stdout) stdout.push(payload);
    else if (data[0] === CHANNEL.stderr) stderr?.push(payload);
    else if (data[0] === CHANNEL.error) {
      finish();
      const status = exitOf(payload);
      if (typeof status === "number") settle.resolve(status);
      else settle.reject(new Error(status.message));
    }
  };
  listen(onMessage, () => {
    finish();
    settle.reject(new Error("the node closed the stream before the process ended"));
  });
  exited.catch(() => {});
  return {
    stdout: stdout.stream,
    stderr: stderr?.stream,
    stdin: new WritableStream<Uint8Array>({
      write: (chunk) => send(CHANNEL.stdin, chunk),
      close: () => send(CHANNEL.close, new Uint8Array([CHANNEL.stdin])),
    }),
    resize: (cols, rows) =>
      send(CHANNEL.resize, new TextEncoder().encode(JSON.stringify({ Width: cols, Height: rows }))),
    exited,
    kill: () => ws.close(1000),
  };
}

/** Channel 3's Status: 0 for Success, the ExitCode cause for NonZeroExitCode, else the failure. */
function exitOf(payload: Uint8Array): number | { message: string } {
  try {
    const status = JSON.parse(new TextDecoder().decode(payload));
    if (status.status === "Success") return 0;
    const code = status.details?.causes?.find((c: { reason?: string }) => c.reason === "ExitCode")?.message;
    if (status.reason === "NonZeroExitCode" && code !== undefined) return Number(code);
    return { message: status.message ?? "the command failed" };
  } catch {
    return { message: "the node sent an unreadable exit status" };
  }
}

/** One forwarded connection over the channel protocol: channel 0 data, 1 errors, each first sends the port. */
function forwardStream({ ws, listen }: NodeSocket): DuplexStream {
  const readable = pushStream();
  const seenPort = new Set<number>();
  const onMessage = (data: Uint8Array) => {
    const channel = data[0]!;
    if (!seenPort.has(channel)) {
      seenPort.add(channel); // the first message of each channel is the port number
      return;
    }
    if (channel === 0) readable.push(data.slice(1));
    else if (channel === 1 && data.byteLength > 1)
      readable.error(new Error(new TextDecoder().decode(data.slice(1))));
  };
  listen(onMessage, () => readable.close());
  const close = () => ws.close(1000);
  return {
    readable: readable.stream,
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        const frame = new Uint8Array(chunk.byteLength + 1);
        frame.set(chunk, 1);
        ws.send(frame);
      },
      close,
    }),
    close,
  };
}

/** A ReadableStream fed by pushes, closed or failed once. */
function pushStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    stream,
    push: (chunk: Uint8Array) => done || controller.enqueue(chunk),
    close: () => {
      if (done) return;
      done = true;
      controller.close();
    },
    error: (e: Error) => {
      if (done) return;
      done = true;
      controller.error(e);
    },
  };
}
