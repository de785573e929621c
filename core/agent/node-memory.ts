import { readFile } from "node:fs/promises";

/**
 * The node's memory working set: memory in use less what the kernel can hand out at once (page
 * cache and reclaimable slab) — MemTotal − MemAvailable from /proc/meminfo. Read here rather than
 * from `os.freemem()`, whose meaning differs by JS runtime (MemAvailable under Bun and Node's
 * libuv, MemFree elsewhere): with MemFree, every cached file would count as used and a node that
 * merely read its disk would look full.
 */
export function nodeWorkingSetBytes(meminfo: string): number {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(meminfo);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb("MemTotal") ?? 0;
  const available = kb("MemAvailable") ?? kb("MemFree") ?? 0;
  return Math.max(0, total - available);
}

export async function readNodeWorkingSet(path = "/proc/meminfo"): Promise<number> {
  return nodeWorkingSetBytes(await readFile(path, "utf8"));
}
