import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import type { LogOptions } from "../../core/seams/container-runtime.ts";
import { offsetSince, readLogIndex, writtenBy } from "./log-index.ts";

/**
 * Reading container logs. The one writer is the log pump (container-log-writer.ts), which
 * rotates by renaming (container.log → .1 → .2 …) between two writes; a follower holds the file
 * it reads open, reads it to its end once the name points elsewhere (nothing is written to a
 * file after it is renamed) and moves to the next newer file, so it sees every line once, in
 * order, across any number of rotations. Following is cheap size polling, plus a catch-up the
 * pump asks for just before each rotation (so even a burst of rotations between two polls loses
 * nothing to the kept-files limit).
 *
 * Timestamps: the files hold the container's bytes as written (no CRI framing), so a followed
 * chunk's lines carry the time minik read them (within the 100 ms poll), and backlog lines the
 * time from the size index (log-index.ts, one-second resolution), else the file's last-modified
 * time. `sinceSeconds` uses the index too. The backlog is the live file only, as the kubelet's.
 */
const POLL_MS = 100;
/** A follower's read per turn; a bigger backlog is read over several turns. */
const READ_MAX = 4 << 20;
const encoder = new TextEncoder();

/** In-process followers per log path, caught up by the log pump just before it rotates. */
const followers = new Map<string, Set<() => void>>();

/** Whether anyone in this process follows `log` now (the pump then looks at its pipe often). */
export function hasFollowers(log: string): boolean {
  return (followers.get(log)?.size ?? 0) > 0;
}

/**
 * Called by the log pump before it renames `log`: every follower reads to the live file's end
 * now, so a follower that polls slowly still never finds a file it has not read deleted.
 */
export function catchUpFollowers(log: string): void {
  for (const catchUp of followers.get(log) ?? []) catchUp();
}

const inodeOf = (path: string): number | undefined => {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
};

/** The live log and its rotations, newest first (`log`, `log.1`, `log.2` …), with their inodes. */
function logChain(log: string): { path: string; ino: number }[] {
  const chain: { path: string; ino: number }[] = [];
  for (let i = 0; ; i++) {
    const path = i === 0 ? log : `${log}.${i}`;
    const ino = inodeOf(path);
    if (ino === undefined) {
      if (i === 0) continue; // between the rename and the new live file
      break;
    }
    chain.push({ path, ino });
  }
  return chain;
}

/**
 * Opens the file written after the one with inode `ino`; undefined while `ino` is still the live
 * file. Files are told by inode, not name: a rotation may rename them while we look, so the open
 * is checked and retried. When `ino` is gone (rotated out of the kept files before the follower
 * got to it), the oldest kept file.
 */
function openNewer(log: string, ino: number): OpenLog | undefined {
  for (let attempt = 0; attempt < 10; attempt++) {
    const chain = logChain(log);
    const at = chain.findIndex((f) => f.ino === ino);
    if (at === 0) return undefined;
    const want = at > 0 ? chain[at - 1] : chain.at(-1);
    if (!want) return undefined;
    const file = OpenLog.open(want.path);
    if (file?.ino === want.ino) return file;
    file?.close(); // renamed under us: look again
  }
  return undefined;
}

/** A log file held open, so it can be read to its end after it is renamed. */
class OpenLog {
  private constructor(
    readonly fd: number,
    readonly ino: number,
    public offset: number,
  ) {}
  static open(path: string): OpenLog | undefined {
    try {
      const fd = openSync(path, "r");
      return new OpenLog(fd, fstatSync(fd).ino, 0);
    } catch {
      return undefined;
    }
  }
  size(): number {
    return fstatSync(this.fd).size;
  }
  /**
   * What was written since the last call, up to `max` bytes. Synchronous on purpose: a
   * follower reads in the same turn as it looks at the names, so the log pump (which rotates
   * between turns) cannot rotate a file away in the middle of a read.
   */
  rest(max = READ_MAX): Uint8Array {
    const length = Math.min(this.size() - this.offset, max);
    if (length <= 0) return new Uint8Array(0);
    const buf = Buffer.allocUnsafe(length);
    const n = readSync(this.fd, buf, 0, length, this.offset);
    this.offset += n;
    return buf.subarray(0, n);
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch {}
  }
}

/** RFC 3339 with nanoseconds, as the kubelet prints them. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace("Z", "000000Z");

/** Prefixes each line with the time `timeOf(end offset of the line within chunk)` gives. */
function stamp(chunk: Uint8Array, timeOf: (end: number) => number, atLineStart: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  let start = 0;
  let lineStart = atLineStart;
  while (start < chunk.length) {
    const nl = chunk.indexOf(10, start);
    const end = nl < 0 ? chunk.length : nl + 1;
    if (lineStart) parts.push(encoder.encode(`${rfc3339(timeOf(end))} `));
    parts.push(chunk.subarray(start, end));
    lineStart = nl >= 0;
    start = end;
  }
  return Buffer.concat(parts);
}

/** The first line start at or after `offset`. */
function lineStartAt(buf: Uint8Array, offset: number): number {
  if (offset <= 0) return 0;
  if (offset >= buf.length) return buf.length;
  if (buf[offset - 1] === 10) return offset;
  const nl = buf.indexOf(10, offset);
  return nl < 0 ? buf.length : nl + 1;
}

function lastLines(buf: Uint8Array, n: number): Uint8Array {
  if (n <= 0) return new Uint8Array(0);
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 10) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 10 && ++count === n) return buf.subarray(i + 1);
  }
  return buf;
}

export function logStream(
  path: string,
  options: LogOptions & { isRunning: () => boolean },
): ReadableStream<Uint8Array> {
  let file: OpenLog | undefined;
  let sent = 0;
  let atLineStart = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = options.limitBytes ?? Number.POSITIVE_INFINITY;
  let catchUp: (() => void) | undefined;
  const stop = () => {
    if (timer) clearTimeout(timer);
    file?.close();
    file = undefined;
    if (catchUp) followers.get(path)?.delete(catchUp);
  };

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const finish = () => {
        stop();
        try {
          controller.close();
        } catch {}
      };
      const emit = (chunk: Uint8Array, timeOf: (end: number) => number): boolean => {
        let out = options.timestamps ? stamp(chunk, timeOf, atLineStart) : chunk;
        if (chunk.length) atLineStart = chunk[chunk.length - 1] === 10;
        if (sent + out.length > limit) out = out.subarray(0, limit - sent);
        sent += out.length;
        if (out.length) controller.enqueue(out);
        return sent < limit;
      };
      options.signal?.addEventListener("abort", finish, { once: true });

      file = OpenLog.open(path);
      const mtime = file ? fstatSync(file.fd).mtime : new Date();
      let backlog: Uint8Array = file ? file.rest(Number.MAX_SAFE_INTEGER) : new Uint8Array(0);
      const end = backlog.length;
      const index = readLogIndex(path);
      if (options.sinceSeconds !== undefined) {
        const cutoff = Date.now() - options.sinceSeconds * 1000;
        if (mtime.getTime() < cutoff) backlog = new Uint8Array(0);
        else backlog = backlog.subarray(lineStartAt(backlog, offsetSince(index, cutoff)));
      }
      if (options.tailLines !== undefined) backlog = lastLines(backlog, options.tailLines);
      const base = end - backlog.length; // file offset of backlog[0]
      const backlogTime = (e: number) => writtenBy(index, base + e, mtime.getTime());
      if (!emit(backlog, backlogTime) || !options.follow || options.signal?.aborted) return finish();

      /**
       * Reads what the file we hold has, then, if the name had moved on before we read (so the
       * file was complete), goes on with the next newer file: never a line twice or skipped.
       * Returns the bytes read, or -1 when the byte limit is reached.
       */
      const readAvailable = (max: number): number => {
        let read = 0;
        for (;;) {
          file ??= OpenLog.open(path);
          if (!file) break;
          const live = inodeOf(path);
          const chunk = file.rest(max);
          read += chunk.length;
          if (chunk.length && !emit(chunk, () => Date.now())) return -1;
          if (read >= max) break; // more next turn
          if (live === undefined || live === file.ino) break;
          const next = openNewer(path, file.ino);
          if (!next) break;
          file.close();
          file = next;
        }
        return read;
      };
      catchUp = () => {
        if (readAvailable(Number.MAX_SAFE_INTEGER) < 0) finish();
      };
      followers.set(path, (followers.get(path) ?? new Set()).add(catchUp));
      const poll = () => {
        if (options.signal?.aborted) return finish();
        const running = options.isRunning();
        const read = readAvailable(READ_MAX);
        if (read < 0 || !running) return finish();
        // A busy log is read again at once.
        timer = setTimeout(poll, read > 0 ? 0 : POLL_MS);
      };
      timer = setTimeout(poll, 0);
    },
    cancel() {
      stop();
    },
  });
}
