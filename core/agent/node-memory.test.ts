import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { nodeWorkingSetBytes, readNodeWorkingSet } from "./node-memory.ts";

const MEMINFO = `MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    5000000 kB
Buffers:          100000 kB
Cached:          4000000 kB
`;

test("the working set leaves out page cache: total − available, not total − free", () => {
  // 8 GB total, 1 GB free, 4 GB of it cache the kernel can drop: 3 GB in use, not 7 GB
  expect(nodeWorkingSetBytes(MEMINFO)).toBe(3_000_000 * 1024);
});

test("on this host it is below total − free by the droppable cache", async () => {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(meminfo)![1]) * 1024;
  const ws = await readNodeWorkingSet();
  expect(ws).toBeGreaterThan(0);
  expect(ws).toBeLessThan(kb("MemTotal") - kb("MemFree") + 64 * 2 ** 20);
});
