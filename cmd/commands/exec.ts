import { ApiError } from "../../core/errors.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { UsageError } from "../usage-error.ts";

export interface ExecCmdOptions extends GlobalOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

/**
 * `minik exec [-it] POD -- CMD…` over the same WebSocket protocol kubectl uses (v5.channel.k8s.io):
 * one byte of channel number, then the payload. Exits with the command's exit code.
 */
export async function exec(pod: string, command: string[], opts: ExecCmdOptions): Promise<void> {
  if (command.length === 0) throw new UsageError("you must specify at least one command for the container");
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const url = new URL(
    api.url(`/api/v1/namespaces/${ns}/pods/${encodeURIComponent(pod.replace(/^(pods?|po)\//, ""))}/exec`),
  );
  for (const c of command) url.searchParams.append("command", c);
  if (opts.container) url.searchParams.set("container", opts.container);
  url.searchParams.set("stdout", "true");
  url.searchParams.set("stderr", opts.tty ? "false" : "true");
  if (opts.stdin) url.searchParams.set("stdin", "true");
  if (opts.tty) url.searchParams.set("tty", "true");
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  const ws = new WebSocket(url.toString(), {
    protocols: ["v5.channel.k8s.io", "v4.channel.k8s.io"],
    headers: api.headers(),
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const exitCode = await new Promise<number>((resolve, reject) => {
    let code = 0;
    ws.onopen = () => {
      if (opts.tty && process.stdout.isTTY) {
        const resize = () =>
          send(ws, RESIZE, JSON.stringify({ Width: process.stdout.columns, Height: process.stdout.rows }));
        resize();
        process.stdout.on("resize", resize);
      }
      if (opts.stdin) pumpStdin(ws, !!opts.tty);
    };
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer);
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT) process.stdout.write(payload);
      else if (channel === STDERR) process.stderr.write(payload);
      else if (channel === ERROR && payload.length)
        code = exitCodeOf(JSON.parse(new TextDecoder().decode(payload)));
    };
    ws.onerror = () => reject(new ApiError("ServiceUnavailable", `exec: connection to ${api.base} failed`));
    ws.onclose = () => resolve(code);
  });
  if (opts.tty && process.stdin.isTTY) process.stdin.setRawMode(false);
  process.exit(exitCode);
}

function send(ws: WebSocket, channel: number, payload: Uint8Array | string) {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const frame = new Uint8Array(bytes.length + 1);
  frame[0] = channel;
  frame.set(bytes, 1);
  ws.send(frame);
}

function pumpStdin(ws: WebSocket, tty: boolean) {
  if (tty && process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on("data", (chunk: Buffer) => send(ws, STDIN, new Uint8Array(chunk)));
  process.stdin.on("end", () => send(ws, CLOSE, new Uint8Array([STDIN])));
}

function exitCodeOf(status: {
  status?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (cause?.message) return Number(cause.message);
  if (status.message) process.stderr.write(`error: ${status.message}\n`);
  return 1;
}
