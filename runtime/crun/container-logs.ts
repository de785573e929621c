import { copyFileSync, statSync, truncateSync } from "node:fs";
import type { LogOptions } from "../../core/seams/container-runtime.ts";
import { offsetSince, readLogIndex, resetLogIndex, writtenBy } from "./log-index.ts";

/**
 * Container logs without a process per container: crun's stdout/stderr (and so the container's)
 * are an O_APPEND fd on one file. Rotation is copytruncate (the writer keeps its fd; O_APPEND
 * writes land at the new end), keeping one rotated file. Following is cheap size polling.
 *
 * Timestamps: nothing records when the container wrote a line, and a relay process would be the
 * per-container helper this design avoids. So a followed chunk's lines carry the time minik read
 * them (within the 100 ms poll), and backlog lines the time from the size index (log-index.ts,
 * one-second resolution), else the file's last-modified time. `sinceSeconds` uses the index too.
 */
const POLL_MS = 100;
const encoder = new TextEncoder();

/** Rotations done by this process, per file: a follower starts over at 0 when it changes. */
const rotations = new Map<string, number>();

export function rotateIfLarge(path: string, maxBytes: number): boolean {
  try {
    if (statSync(path).size <= maxBytes) return false;
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    resetLogIndex(path);
    rotations.set(path, (rotations.get(path) ?? 0) + 1);
    return true;
  } catch {
    return false;
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
  let offset = 0;
  let rotation = rotations.get(path) ?? 0;
  let sent = 0;
  let atLineStart = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = options.limitBytes ?? Number.POSITIVE_INFINITY;

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const finish = () => {
        if (timer) clearTimeout(timer);
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

      let size = 0;
      let mtime = new Date();
      try {
        const st = statSync(path);
        size = st.size;
        mtime = st.mtime;
      } catch {}
      let backlog: Uint8Array = size > 0 ? await Bun.file(path).slice(0, size).bytes() : new Uint8Array(0);
      offset = backlog.length;
      const index = readLogIndex(path);
      if (options.sinceSeconds !== undefined) {
        const cutoff = Date.now() - options.sinceSeconds * 1000;
        if (mtime.getTime() < cutoff) backlog = new Uint8Array(0);
        else backlog = backlog.subarray(lineStartAt(backlog, offsetSince(index, cutoff)));
      }
      if (options.tailLines !== undefined) backlog = lastLines(backlog, options.tailLines);
      const base = offset - backlog.length; // file offset of backlog[0]
      const backlogTime = (end: number) => writtenBy(index, base + end, mtime.getTime());
      if (!emit(backlog, backlogTime) || !options.follow || options.signal?.aborted) return finish();

      const poll = async () => {
        if (options.signal?.aborted) return finish();
        const running = options.isRunning();
        let now = 0;
        try {
          now = statSync(path).size;
        } catch {}
        const r = rotations.get(path) ?? 0;
        if (r !== rotation) {
          // Rotated (copytruncate): what we had not read yet went into the copy.
          const rest = await Bun.file(`${path}.1`)
            .slice(offset)
            .bytes()
            .catch(() => new Uint8Array(0));
          if (rest.length && !emit(rest, () => Date.now())) return finish();
          offset = 0;
          rotation = r;
        } else if (now < offset) offset = 0; // truncated by someone else
        if (now > offset) {
          const chunk = await Bun.file(path).slice(offset, now).bytes();
          offset = now;
          if (!emit(chunk, () => Date.now())) return finish();
        }
        if (!running) return finish();
        timer = setTimeout(poll, POLL_MS);
      };
      timer = setTimeout(poll, 0);
    },
    cancel() {
      if (timer) clearTimeout(timer);
    },
  });
}
