import type { ExecSession } from "../../core/seams/container-runtime.ts";

/**
 * An attach session on a container's main process: its output from now on (stdout and stderr
 * share the container's log file, so they arrive merged on stdout), its stdin if it has one.
 * Ending the session (kill) stops following and lets `exited` settle; the container runs on.
 */
export function attachSession(parts: {
  output: (signal: AbortSignal) => ReadableStream<Uint8Array>;
  stdin?: WritableStream<Uint8Array>;
  /** The container's exit code, once it exits. */
  exited: Promise<number>;
  /** Called once when the session ends before the container does. */
  detached?: () => void;
}): ExecSession {
  const ended = new AbortController();
  const detached = new Promise<number>((resolve) =>
    ended.signal.addEventListener("abort", () => resolve(0), { once: true }),
  );
  return {
    stdin: parts.stdin,
    stdout: parts.output(ended.signal),
    resize() {},
    exited: Promise.race([parts.exited, detached]),
    kill: () => {
      if (ended.signal.aborted) return;
      ended.abort();
      parts.detached?.();
    },
  };
}
