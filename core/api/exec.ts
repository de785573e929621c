import type { Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { ExecSession } from "../seams/container-runtime.ts";
import type { NodeServices } from "../seams/node-services.ts";
import { type PodRouteDeps, pickContainer, requireNode } from "./logs.ts";
import { queryFlag } from "./options.ts";
import { methodNotAllowed } from "./rest.ts";
import { isWebSocketUpgrade, offeredProtocols, type ServerEnv, type Socket } from "./socket.ts";
import type { Target } from "./target.ts";

/** The part of NodeServices `kubectl attach` needs (a node without it answers BadRequest). */
export type AttachCapable = Pick<NodeServices, "attach">;

/** Channel bytes of the Kubernetes remotecommand WebSocket protocol. */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;
export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/**
 * pods/<name>/exec and /attach over a WebSocket (`v5.channel.k8s.io`, or v4). Everything that can
 * fail is checked before the upgrade, so kubectl prints a Status instead of a broken stream.
 */
export async function handleExec(
  req: Request,
  url: URL,
  t: Target,
  deps: PodRouteDeps,
  env: ServerEnv,
): Promise<Response> {
  if (req.method !== "GET" && req.method !== "POST") throw methodNotAllowed(req.method, t);
  const node = requireNode(deps) as NodeServices & Partial<AttachCapable>;
  const attach = t.subresource === "attach";
  if (attach && !node.attach) {
    throw new ApiError(
      "BadRequest",
      `attach to pod ${t.name} is not supported by this node: use kubectl exec or kubectl logs -f`,
    );
  }
  const q = url.searchParams;
  const command = q.getAll("command");
  if (!attach && command.length === 0) {
    throw new ApiError(
      "BadRequest",
      "you must specify at least 1 command: add ?command=<argv0>&command=<argv1>…",
    );
  }
  const pod = (await deps.client.get(t.resource, t.namespace ?? "", t.name!)) as unknown as Pod & {
    metadata: { name: string };
  };
  const container = pickContainer(pod, q.get("container"));
  requireRunning(pod, container);
  const protocol = offeredProtocols(req).find((p) => EXEC_PROTOCOLS.includes(p));
  if (!isWebSocketUpgrade(req) || !env.upgrade) {
    throw new ApiError(
      "BadRequest",
      "exec needs a WebSocket upgrade with subprotocol v5.channel.k8s.io (SPDY is not supported)",
    );
  }
  if (!protocol)
    throw new ApiError("BadRequest", `exec needs WebSocket subprotocol ${EXEC_PROTOCOLS.join(" or ")}`);
  const tty = queryFlag(q.get("tty"));
  const stdin = queryFlag(q.get("stdin"));
  const session = attach
    ? await node.attach!(t.namespace ?? "", t.name!, container, { tty, stdin })
    : await node.exec(t.namespace ?? "", t.name!, container, command, { tty, stdin });
  const response = env.upgrade(req, protocol, (socket) =>
    runExec(socket, session, { v5: protocol.startsWith("v5"), stderr: queryFlag(q.get("stderr")) }),
  );
  if (!response) {
    session.kill();
    throw new ApiError("BadRequest", "the WebSocket upgrade failed");
  }
  return response;
}

/**
 * Checked from the pod's status before anything starts, so the WebSocket attempt and kubectl's
 * SPDY retry both get this message rather than a protocol complaint.
 */
function requireRunning(pod: Pod & { metadata: { name: string } }, container: string): void {
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  if (status?.state?.running) return;
  const why =
    status?.state?.waiting?.reason ??
    (status?.state?.terminated ? "terminated" : (pod.status?.phase ?? "Pending"));
  throw new ApiError(
    "BadRequest",
    `container ${container} in pod ${pod.metadata.name} is not running (${why}): wait for it, or see kubectl describe pod ${pod.metadata.name}`,
  );
}

/** Bridges one exec session and its socket until the process exits and its output is sent. */
export function runExec(
  socket: Socket,
  session: ExecSession,
  options: { v5: boolean; stderr: boolean },
): Promise<void> {
  let closed = false;
  const stdin = session.stdin?.getWriter();
  let stdinOpen = !!stdin;
  const closeStdin = () => {
    if (!stdinOpen) return;
    stdinOpen = false;
    stdin?.close().catch(() => {});
  };
  socket.onMessage((data) => {
    if (data.byteLength === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (channel === CHANNEL.stdin && stdinOpen && payload.byteLength > 0)
      stdin?.write(payload.slice()).catch(() => {});
    else if (channel === CHANNEL.resize) resize(session, payload);
    else if (channel === CHANNEL.close && options.v5 && payload[0] === CHANNEL.stdin) closeStdin();
  });
  socket.onClose(() => {
    closed = true;
    closeStdin();
    session.kill();
  });
  const send = (channel: number, chunk: Uint8Array) => {
    if (closed) return;
    const frame = new Uint8Array(chunk.byteLength + 1);
    frame[0] = channel;
    frame.set(chunk, 1);
    socket.send(frame);
  };
  const pumps = [pump(session.stdout, (c) => send(CHANNEL.stdout, c))];
  // stderr not asked for is drained, not sent, so the process never blocks on a full pipe
  if (session.stderr) pumps.push(pump(session.stderr, (c) => options.stderr && send(CHANNEL.stderr, c)));
  return (async () => {
    let code: number;
    try {
      code = await session.exited;
    } catch (e) {
      await Promise.allSettled(pumps);
      send(CHANNEL.error, encodeJson(failure(`error executing command: ${(e as Error).message}`)));
      if (!closed) socket.close(1000);
      return;
    }
    await Promise.allSettled(pumps);
    send(CHANNEL.error, encodeJson(exitStatus(code)));
    closeStdin();
    if (!closed) socket.close(1000);
  })();
}

/** The channel-3 Status for an exit code: Success, or NonZeroExitCode with an ExitCode cause. */
export function exitStatus(code: number) {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

function failure(message: string) {
  return { metadata: {}, status: "Failure", message, reason: "InternalError" };
}

function resize(session: ExecSession, payload: Uint8Array): void {
  try {
    const size = JSON.parse(new TextDecoder().decode(payload)) as { Width?: number; Height?: number };
    if (size.Width && size.Height) session.resize(size.Width, size.Height);
  } catch {
    // a malformed resize message is ignored, as the kubelet does
  }
}

async function pump(stream: ReadableStream<Uint8Array>, write: (chunk: Uint8Array) => void): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value.byteLength) write(value);
  }
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
