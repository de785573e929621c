import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { ChangeLogSizes } from "./change-log-sizes.ts";
import { createSqlStore } from "./sql-store.ts";
import { pod } from "./testing/store-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "minik-changelog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fileUrl = () => `file:${join(dir, `state-${n++}.db`)}`;

async function logBytes(url: string): Promise<{ rows: number; bytes: number }> {
  const c = createClient({ url });
  try {
    const r = await c.execute(
      "SELECT count(*) AS rows, coalesce(sum(length(object)), 0) AS bytes FROM changes",
    );
    return { rows: Number(r.rows[0]!.rows), bytes: Number(r.rows[0]!.bytes) };
  } finally {
    c.close();
  }
}

describe("ChangeLogSizes", () => {
  test("the trim target leaves the newest entries within the byte limit, and the newest always", () => {
    const s = new ChangeLogSizes();
    for (let rev = 1; rev <= 10; rev++) s.add(rev, 100);
    expect(s.bytes).toBe(1000);
    expect(s.trimTarget(1000)).toBeUndefined();
    expect(s.trimTarget(450)).toBe(6); // 7..10 = 400 bytes stay
    expect(s.trimTarget(10)).toBe(9); // only the newest stays
    s.forgetUpTo(6);
    expect(s.bytes).toBe(400);
    expect(s.trimTarget(450)).toBeUndefined();
  });
});

describe("the store's change log", () => {
  test("is bounded by bytes as well as by count: large objects updated often keep it small", async () => {
    const url = fileUrl();
    const limit = 512 * 1024;
    const s = await createSqlStore({
      url,
      changeLogLimit: 10_000,
      changeLogBytes: limit,
      compactIntervalMs: 0,
    });
    const big = "x".repeat(32 * 1024);
    const objs = [];
    for (let i = 0; i < 5; i++) objs.push(await s.create("pods", pod(`p${i}`, "default", { data: big })));
    for (let round = 0; round < 60; round++)
      for (let i = 0; i < 5; i++) objs[i] = await s.update("pods", objs[i]!);
    await s.compact();
    const { rows, bytes } = await logBytes(url);
    expect(bytes).toBeLessThanOrEqual(limit);
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(305);
    // a watch from a trimmed revision gets 410; from a kept one it replays
    await expect(s.watch({ sinceResourceVersion: "10" }, () => {})).rejects.toMatchObject({
      code: "Expired",
    });
    const recent = String(Number(await s.currentResourceVersion()) - 3);
    const seen: string[] = [];
    const stop = await s.watch({ sinceResourceVersion: recent }, (e) => seen.push(e.type));
    stop();
    expect(seen).toEqual(["MODIFIED", "MODIFIED", "MODIFIED"]);
    await s.close();

    // the sizes are read back at start-up: the bound holds across restarts
    const again = await createSqlStore({ url, changeLogBytes: limit / 4, compactIntervalMs: 0 });
    await again.compact();
    expect((await logBytes(url)).bytes).toBeLessThanOrEqual(limit / 4);
    await again.close();
  });
});
