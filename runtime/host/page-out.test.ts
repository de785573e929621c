import { expect, test } from "bun:test";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileMappings, pageOutFileMappings } from "./page-out.ts";

test("fileMappings keeps mappings of files and skips anonymous memory, the heap and pseudo files", () => {
  const maps = [
    "00200000-01a39000 r--p 00000000 fe:00 5309596                            /usr/local/bin/minik",
    "01a40000-0684a000 r-xp 01838000 fe:00 5309596                            /usr/local/bin/minik",
    "5a1ed000000-5a22d000000 rw-p 00000000 00:00 0 ",
    "55d0c0a1e000-55d0c0a3f000 rw-p 00000000 00:00 0                          [heap]",
    "7f8c6d800000-7f8c6e0d2000 r-xp 00000000 fe:00 2146373                    /tmp/.bun-0-f62bf34fc664bb18.node",
    "7f8c6e0d2000-7f8c6e0d3000 r--p 00000000 fe:00 2146374                    /tmp/a file with spaces (deleted)",
    "7ffd1c5e4000-7ffd1c5e8000 r--p 00000000 00:00 0                          [vvar]",
  ].join("\n");
  expect(fileMappings(maps)).toEqual([
    { start: 0x200000n, end: 0x1a39000n, path: "/usr/local/bin/minik" },
    { start: 0x1a40000n, end: 0x684a000n, path: "/usr/local/bin/minik" },
    { start: 0x7f8c6d800000n, end: 0x7f8c6e0d2000n, path: "/tmp/.bun-0-f62bf34fc664bb18.node" },
    { start: 0x7f8c6e0d2000n, end: 0x7f8c6e0d3000n, path: "/tmp/a file with spaces (deleted)" },
  ]);
});

/** Resident kB of this process's mapping of `path` (/proc/self/smaps). */
function residentKb(path: string): number {
  let inFile = false;
  let kb = 0;
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(path);
    else if (inFile && line.startsWith("Rss:")) kb += Number(line.split(/\s+/)[1]);
  }
  return kb;
}

test("pageOutFileMappings gives back the resident pages of a mapped file", () => {
  const dir = mkdtempSync(join(tmpdir(), "minik-page-out-"));
  try {
    const path = join(dir, "data");
    const fd = openSync(path, "w");
    writeSync(fd, Buffer.alloc(8 << 20, 7));
    // written-back pages can be reclaimed at once; dirty ones would first need writing
    fsyncSync(fd);
    closeSync(fd);
    const mapped = Bun.mmap(path, { shared: false });
    let sum = 0;
    for (let i = 0; i < mapped.length; i += 4096) sum += mapped[i]!;
    expect(sum).toBe(7 * 2048);
    const before = residentKb(path);
    expect(before).toBeGreaterThan(7 << 10);
    expect(pageOutFileMappings()).toBeGreaterThan(0);
    expect(residentKb(path)).toBeLessThan(before / 4);
    // the contents are still there: read back from the file on the next touch
    expect(mapped[(8 << 20) - 1]).toBe(7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
