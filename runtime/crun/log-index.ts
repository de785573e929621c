import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";

/**
 * When each part of a container log was written, to the second, without a process in the log
 * path: minik notes the log's size once a second for every running container, appending
 * `<size> <epoch ms>` to `<log>.idx` when it grew. A byte at offset o was written no later than
 * the first noted time whose size exceeds o (and after the one before), so `--timestamps` and
 * `--since` get a one-second resolution for the backlog; followed chunks are stamped when read.
 */
export interface LogIndexEntry {
  offset: number;
  time: number;
}

const lastSizes = new Map<string, number>();

export const indexPath = (log: string) => `${log}.idx`;

/** Notes the log's current size if it grew since the last call. */
export function observeLog(log: string, now = Date.now()): void {
  let size: number;
  try {
    size = statSync(log).size;
  } catch {
    return;
  }
  const last = lastSizes.get(log) ?? readLogIndex(log).at(-1)?.offset ?? 0;
  if (size === last) {
    lastSizes.set(log, size); // remember it, so a quiet log costs one stat a second, not a read
    return;
  }
  if (size < last) writeFileSync(indexPath(log), ""); // rotated or truncated: start over
  appendFileSync(indexPath(log), `${size} ${now}\n`);
  lastSizes.set(log, size);
}

export function resetLogIndex(log: string): void {
  writeFileSync(indexPath(log), "");
  lastSizes.set(log, 0);
}

export function forgetLog(log: string): void {
  lastSizes.delete(log);
}

export function readLogIndex(log: string): LogIndexEntry[] {
  let text = "";
  try {
    text = readFileSync(indexPath(log), "utf8");
  } catch {
    return [];
  }
  const out: LogIndexEntry[] = [];
  for (const line of text.split("\n")) {
    const [o, t] = line.split(" ");
    if (o && t) out.push({ offset: Number(o), time: Number(t) });
  }
  return out;
}

/** When the byte just before `end` was written (at the latest); `fallback` if not noted yet. */
export function writtenBy(entries: LogIndexEntry[], end: number, fallback: number): number {
  for (const e of entries) if (e.offset >= end) return e.time;
  return fallback;
}

/** The first offset written at or after `cutoff` (bytes before it were all written earlier). */
export function offsetSince(entries: LogIndexEntry[], cutoff: number): number {
  let offset = 0;
  for (const e of entries) {
    if (e.time >= cutoff) break;
    offset = e.offset;
  }
  return offset;
}
