import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { FakeNodeServices } from "./testing/fake-node-services.ts";
import { type FuzzRequest, runFuzz } from "./testing/fuzz.ts";

// Bounded: 3,000 requests or 40 s, whichever comes first; `bun run fuzz` runs it longer.
const COUNT = 3_000;
const DEADLINE_MS = 40_000;
/** Heap growth allowed over the run (objects the fuzzer created stay stored, so some growth is real). */
const MAX_HEAP_GROWTH_BYTES = 256 * 1024 * 1024;
setDefaultTimeout(DEADLINE_MS + 20_000);

let store: Store;
beforeAll(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
});
afterAll(async () => {
  await store.close();
});

test("thousands of malformed and hostile requests: no 5xx, errors are Status, nothing stored on error", async () => {
  const client = createRegistry(store);
  await client.bootstrap();
  const app = createApiServer({ client, node: new FakeNodeServices(), auth: { token: "t" } });
  const send = (r: FuzzRequest) =>
    app.request(
      `http://127.0.0.1:7080${r.path}`,
      { method: r.method, headers: { Authorization: "Bearer t", ...r.headers }, body: r.body },
      { loopback: true },
    );
  (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc(true);
  const heapBefore = process.memoryUsage().heapUsed;
  const report = await runFuzz({ seed: 14, count: COUNT, send, client, deadlineMs: DEADLINE_MS });
  (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc(true);
  const growth = process.memoryUsage().heapUsed - heapBefore;
  for (const f of report.findings.slice(0, 5))
    console.error(
      f.problem,
      f.status,
      f.request.method,
      f.request.path,
      f.request.body?.slice(0, 300),
      f.body,
    );
  expect(report.findings).toEqual([]);
  expect(report.sent).toBeGreaterThanOrEqual(Math.min(COUNT, 1_000));
  // the run exercised both outcomes
  expect(Object.keys(report.byStatus).some((s) => Number(s) < 300)).toBe(true);
  expect(Object.keys(report.byStatus).some((s) => Number(s) >= 400)).toBe(true);
  expect(growth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
});
