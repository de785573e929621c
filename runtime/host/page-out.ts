import { dlopen } from "bun:ffi";
import { readFileSync } from "node:fs";

/**
 * Hands the clean file pages of minik's own mappings back to the kernel (madvise MADV_PAGEOUT,
 * Linux ≥ 5.4). Measured on the compiled binary (issue 17): once `minik up` is ready, about 45 MB
 * of its RSS are file pages it touched only to start — the embedded libsql addon copied out to
 * /tmp, the bundle's bytecode, module initialisation and set-up code — which a file-backed page
 * keeps resident until memory runs short. Paging them out frees them now; a page needed again is
 * read back on its next touch, as after any reclaim. Anonymous memory (the heap) is never touched:
 * only mappings of files are advised, and the kernel skips pages other processes also map (libc).
 */
const openLibc = () =>
  dlopen("libc.so.6", {
    madvise: { args: ["u64", "u64", "i32"], returns: "i32" },
  }).symbols;
/** Opened at the first release, not at import: every CLI process loads this module. */
let lib: ReturnType<typeof openLibc> | undefined;
const libc = () => (lib ??= openLibc());

const MADV_PAGEOUT = 21;

export interface FileMapping {
  start: bigint;
  end: bigint;
  path: string;
}

/** The mappings of regular files in a /proc/PID/maps text (not the heap, stack, vdso or anonymous memory). */
export function fileMappings(maps: string): FileMapping[] {
  const out: FileMapping[] = [];
  for (const line of maps.split("\n")) {
    // start-end perms offset dev inode path; inode 0 is anonymous or a pseudo file
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+) +(\/.*)$/.exec(line);
    if (!m || m[3] === "0") continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), path: m[4]! });
  }
  return out;
}

/** Pages out this process's file mappings; returns how many the kernel accepted. */
export function pageOutFileMappings(): number {
  let advised = 0;
  for (const r of fileMappings(readFileSync("/proc/self/maps", "utf8")))
    if (libc().madvise(r.start, r.end - r.start, MADV_PAGEOUT) === 0) advised++;
  return advised;
}
