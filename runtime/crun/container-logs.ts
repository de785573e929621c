import { copyFileSync, statSync, truncateSync } from "node:fs";
import type { LogOptions } from "../container-runtime.ts";

/**
 * Container logs without a process per container: crun's stdout/stderr (and so the container's)
 * are an O_APPEND fd on one file. Rotation is copytruncate (the writer keeps its fd; O_APPEND
 * writes land at the new end), keeping one rotated file. Following is cheap size polling.
 *
 * Timestamps: nothing records when the container wrote a line, and a relay process would be the
 * per-container helper this design avoids. So a followed chunk's lines carry the time minik read
 * them (within the 100 ms poll), and backlog lines carry the file's last-modified time — exact
 * for the last write and an upper bound for earlier ones. `sinceSeconds` uses the same clock.
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
    rotations.set(path, (rotations.get(path) ?? 0) + 1);
    return true;
  } catch {
    return false;
  }
}

function stamp(lines: Uint8Array, time: Date, atLineStart: boolean): Uint8Array {
  const prefix = `${time.toISOString().replace("Z", "000000Z")} `;
  const text = new TextDecoder().decode(lines);
  let out = "";
  let start = atLineStart;
  for (const ch of text.split(/(?<=\n)/)) {
    out += (start ? prefix : "") + ch;
    start = ch.endsWith("\n");
  }
  return encoder.encode(out);
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
      const emit = (chunk: Uint8Array, time: Date): boolean => {
        let out = options.timestamps ? stamp(chunk, time, atLineStart) : chunk;
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
      if (options.sinceSeconds !== undefined && mtime.getTime() < Date.now() - options.sinceSeconds * 1000) {
        backlog = new Uint8Array(0);
      }
      if (options.tailLines !== undefined) backlog = lastLines(backlog, options.tailLines);
      if (!emit(backlog, mtime) || !options.follow || options.signal?.aborted) return finish();

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
          if (rest.length && !emit(rest, new Date())) return finish();
          offset = 0;
          rotation = r;
        } else if (now < offset) offset = 0; // truncated by someone else
        if (now > offset) {
          const chunk = await Bun.file(path).slice(offset, now).bytes();
          offset = now;
          if (!emit(chunk, new Date())) return finish();
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
