import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { mkfifo, readNonBlocking } from "../supervise/libc.ts";
import { catchUpFollowers, hasFollowers } from "./container-logs.ts";
import { resetLogIndex } from "./log-index.ts";

/**
 * Container output reaches its log file through minik, so rotation loses nothing.
 *
 * The container's stdout and stderr are a FIFO in its directory, opened read-write (as its stdin
 * is, container-stdin.ts): the container is then a reader of its own pipe too, so a write never
 * gets SIGPIPE while minik is not reading (restarting) — the pipe fills and the writer waits, and
 * the next minik drains it from where the last one stopped. This process holds only a read end,
 * so end-of-file means every writer (the container and its children) has gone.
 *
 * The one writer of the log file is this pump: it rotates between two writes (rename
 * container.log → .1 → .2 …, new container.log), as the kubelet's container log manager asks
 * CRI to reopen, so no line lands in a file being copied or truncated. Limits are the kubelet's
 * defaults: containerLogMaxSize 10 Mi and containerLogMaxFiles 5 (the live file included).
 *
 * Known limit: output still in the pipe when the container exits while no minik reads it is
 * gone with the pipe (at most one pipe buffer, 64 KiB).
 */
export interface LogLimits {
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { maxBytes: 10 * 1024 * 1024, maxFiles: 5 };

/** The rotated files of `log`, newest first: `log.1` … `log.{maxFiles-1}`. */
export const rotatedLogs = (log: string, maxFiles: number) =>
  Array.from({ length: Math.max(0, maxFiles - 1) }, (_, i) => `${log}.${i + 1}`);

export interface ContainerLogWriters {
  /** Makes the FIFO and returns the fd to hand the container as fd 1 and 2 (the caller closes it). */
  create(id: string, fifo: string, log: string): number;
  /** Drains an existing FIFO (a container adopted from an earlier process); false when there is none. */
  resume(id: string, fifo: string, log: string): boolean;
  /**
   * Moves what the pipe holds into the file now. At a container's exit everything it wrote is
   * already in the pipe, so after this its log is complete (end-of-file may come later: a
   * process outside the container, such as a crun helper, can hold the pipe a while longer).
   */
  flush(id: string): void;
  /** Resolves once every writer has closed the pipe and all of it is in the file, or after `timeoutMs`. */
  drained(id: string, timeoutMs: number): Promise<void>;
  /** Stops pumping (the container was removed). */
  forget(id: string): void;
  /** Stops every pump (the runtime closes; containers keep running, the next process resumes). */
  close(): void;
}

export function createContainerLogWriters(limits: LogLimits = DEFAULT_LOG_LIMITS): ContainerLogWriters {
  const pumps = new Map<string, Pump>();
  const start = (id: string, fifo: string, log: string) => {
    pumps.get(id)?.stop();
    const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    pumps.set(id, startPump(read, log, limits));
  };
  return {
    create(id, fifo, log) {
      rmSync(fifo, { force: true });
      mkfifo(fifo);
      const containerEnd = openSync(fifo, "r+");
      start(id, fifo, log);
      return containerEnd;
    },
    resume(id, fifo, log) {
      if (!existsSync(fifo)) return false; // started by a minik that wrote logs directly
      start(id, fifo, log);
      return true;
    },
    flush(id) {
      pumps.get(id)?.flush();
    },
    async drained(id, timeoutMs) {
      const pump = pumps.get(id);
      if (!pump) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([pump.done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    },
    forget(id) {
      pumps.get(id)?.stop();
      pumps.delete(id);
    },
    close() {
      for (const pump of pumps.values()) pump.stop();
      pumps.clear();
    },
  };
}

interface Pump {
  done: Promise<void>;
  flush(): void;
  stop(): void;
}

/** A busy pipe is read again at once; an idle one this often while its log is followed (logs -f, attach). */
const IDLE_POLL_MS = 50;
/**
 * An idle pipe nobody follows is looked at ever less often (doubling from IDLE_POLL_MS) down to
 * this: 50 quiet containers cost the daemon ~100 reads a second instead of 1,000 (22 → ~3 ms of CPU
 * a second, issue 17). The price is a first line after a long silence reaching the file up to
 * this late, and a writer of more than a pipe (64 KiB) waiting as long; the exit flush is unchanged.
 */
const QUIET_POLL_MAX_MS = 500;
/** Bytes moved per turn of the event loop, so one chatty container cannot starve the rest. */
const TURN_BYTES = 1 << 20;
/** A flush at exit moves at most this much (the pipe holds far less once the writer is gone). */
const FLUSH_MAX_BYTES = 64 << 20;

/**
 * One read buffer for every pump: a drain runs start to end without yielding (the read, the write
 * and a rotation are synchronous), so no two pumps ever use it at once — 64 KiB in all, not per
 * container (3.2 MB with 50 pods).
 */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Non-blocking reads on a timer rather than a stream: nothing is ever buffered in this process
 * between the pipe and the file, so stopping (a restart) leaves the rest in the pipe for the next.
 */
function startPump(readFd: number, log: string, limits: LogLimits): Pump {
  let out = openSync(log, "a");
  let size = fstatSync(out).size;
  let atLineStart = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idleMs = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  // reads no bigger than a file, so a file holds about maxBytes however the writer chunks its output
  const buf = readBuffer.subarray(0, Math.min(readBuffer.length, limits.maxBytes));

  const rotate = () => {
    catchUpFollowers(log);
    closeSync(out);
    const rotated = rotatedLogs(log, limits.maxFiles);
    // Oldest first, so each rename lands on a name just freed.
    for (let i = rotated.length - 1; i >= 0; i--) {
      const from = i === 0 ? log : rotated[i - 1]!;
      if (existsSync(from)) renameSync(from, rotated[i]!);
    }
    out = openSync(log, "a");
    size = 0;
    resetLogIndex(log);
  };
  const write = (bytes: Uint8Array) => {
    let off = 0;
    while (off < bytes.length) off += writeSync(out, bytes, off);
    size += bytes.length;
    if (bytes.length) atLineStart = bytes[bytes.length - 1] === 10;
  };
  const append = (chunk: Uint8Array) => {
    if (size === 0 || size + chunk.length <= limits.maxBytes) return write(chunk);
    // Rotate at a line boundary, so no line is split over two files: first finish the line the
    // file ends in (a line longer than two files is cut anyway).
    const nl = atLineStart ? -1 : chunk.indexOf(10);
    const head = nl >= 0 ? nl + 1 : atLineStart || size >= limits.maxBytes * 2 ? 0 : chunk.length;
    write(chunk.subarray(0, head));
    if (head < chunk.length || atLineStart) rotate();
    write(chunk.subarray(head));
  };
  const end = () => {
    timer = undefined;
    for (const fd of [readFd, out]) {
      try {
        closeSync(fd);
      } catch {}
    }
    finished();
  };
  /** Moves what the pipe holds (up to `max` bytes); false at end of file (no writer left). */
  const drain = (max: number): { open: boolean; moved: number } => {
    let moved = 0;
    while (moved < max) {
      let n: number;
      try {
        n = readNonBlocking(readFd, buf);
      } catch {
        return { open: false, moved };
      }
      if (n < 0) return { open: true, moved };
      if (n === 0) return { open: false, moved };
      append(buf.subarray(0, n));
      moved += n;
    }
    return { open: true, moved };
  };
  const turn = () => {
    // never more than a file per turn, so a follower gets its turn before a file it has not read is gone
    const { open, moved } = drain(Math.min(TURN_BYTES, limits.maxBytes));
    if (!open) return end();
    if (moved > 0) idleMs = 0;
    else
      idleMs = hasFollowers(log)
        ? IDLE_POLL_MS
        : Math.min(QUIET_POLL_MAX_MS, Math.max(IDLE_POLL_MS, idleMs * 2));
    timer = setTimeout(turn, idleMs);
  };
  timer = setTimeout(turn, 0);
  return {
    done,
    flush() {
      if (timer !== undefined) drain(FLUSH_MAX_BYTES);
    },
    stop() {
      if (timer === undefined) return;
      clearTimeout(timer);
      end();
    },
  };
}
