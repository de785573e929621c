import type { ExecOptions, ExecSession } from "../../core/seams/container-runtime.ts";
import { tracked } from "../supervise/exit-watcher.ts";

/**
 * `crun exec` as an ExecSession. With a tty, crun needs its own stdin to be a terminal (else
 * "tcgetattr: Inappropriate ioctl for device"), so the session runs under Bun.spawn's `terminal`
 * (a pty): stdout carries the merged output, stdin writes go to the pty, resize sets its size.
 * Without a tty it is plain pipes.
 */
export function startExec(argv: string[], options: ExecOptions): ExecSession {
  if (options.tty) return ttyExec(argv, options);
  const proc = tracked(
    Bun.spawn(argv, {
      stdin: options.stdin ? "pipe" : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    }),
  );
  let stdin: WritableStream<Uint8Array> | undefined;
  if (options.stdin && proc.stdin) {
    const sink = proc.stdin;
    stdin = new WritableStream<Uint8Array>({
      async write(chunk) {
        sink.write(chunk);
        await sink.flush();
      },
      async close() {
        await sink.end();
      },
      async abort() {
        await sink.end();
      },
    });
  }
  return {
    stdin,
    stdout: proc.stdout as ReadableStream<Uint8Array>,
    stderr: proc.stderr as ReadableStream<Uint8Array>,
    resize() {},
    exited: proc.exited,
    kill: () => proc.kill("SIGKILL"),
  };
}

function ttyExec(argv: string[], options: ExecOptions): ExecSession {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  let outClosed = false;
  const stdout = new ReadableStream<Uint8Array>({
    start(c) {
      out = c;
    },
  });
  const closeOut = () => {
    if (outClosed) return;
    outClosed = true;
    try {
      out.close();
    } catch {}
  };
  const proc = tracked(
    Bun.spawn(argv, {
      terminal: {
        cols: options.size?.cols ?? 80,
        rows: options.size?.rows ?? 24,
        data: (_t, data) => {
          if (!outClosed) out.enqueue(new Uint8Array(data));
        },
        exit: () => closeOut(),
      },
    }),
  );
  const terminal = proc.terminal!;
  const exited = proc.exited.then((code) => {
    // The pty may still hold output after the process ends; let its reader drain, then close.
    setTimeout(() => {
      closeOut();
      terminal.close();
    }, 50);
    return code;
  });
  const stdin = options.stdin
    ? new WritableStream<Uint8Array>({
        write(chunk) {
          if (!terminal.closed) terminal.write(chunk);
        },
        close() {
          // EOF for a tty is ^D at line start, as a terminal would send it.
          if (!terminal.closed) terminal.write("\x04");
        },
      })
    : undefined;
  return {
    stdin,
    stdout,
    resize: (cols, rows) => {
      if (!terminal.closed) terminal.resize(cols, rows);
    },
    exited,
    kill: () => proc.kill("SIGKILL"),
  };
}
