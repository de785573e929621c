import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalStore, layerDirName } from "./local-store.ts";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const newRoot = () => {
  const r = mkdtempSync(join(tmpdir(), "minik-local-store-"));
  roots.push(r);
  return r;
};
const D = (c: string) => `sha256:${c.repeat(64)}`;

test("work dirs left by a crash are removed at start; recent ones (a live pull) stay", () => {
  const root = newRoot();
  createLocalStore(root);
  const old = join(root, "tmp", "layer-crashed");
  const fresh = join(root, "tmp", "layer-running");
  mkdirSync(old);
  writeFileSync(join(old, "half-written"), "x");
  mkdirSync(fresh);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(old, twoHoursAgo, twoHoursAgo);
  createLocalStore(root);
  expect(readdirSync(join(root, "tmp"))).toEqual(["layer-running"]);
});

test("a failed fill leaves no layer dir; concurrent ensureLayer calls share one fill", async () => {
  const store = createLocalStore(newRoot());
  await expect(
    store.ensureLayer(D("a"), async (dest) => {
      writeFileSync(join(dest, "partial"), "x");
      throw new Error("network went away");
    }),
  ).rejects.toThrow("network went away");
  expect(existsSync(store.layerDir(D("a")))).toBe(false);
  expect(readdirSync(store.tmpDir)).toEqual([]);

  let fills = 0;
  const fill = async (dest: string) => {
    fills++;
    await Bun.sleep(20);
    writeFileSync(join(dest, "f"), "y");
  };
  await Promise.all([
    store.ensureLayer(D("b"), fill),
    store.ensureLayer(D("b"), fill),
    store.ensureLayer(D("b"), fill),
  ]);
  expect(fills).toBe(1);
  expect(readdirSync(store.layerDir(D("b")))).toEqual(["f"]);
  expect(store.layerDir(D("b")).endsWith(`/l/${layerDirName(D("b"))}`)).toBe(true);
  expect(layerDirName(D("b"))).toHaveLength(12);
});

test("garbage collection keeps layers of recorded images and of pulls in flight", async () => {
  const store = createLocalStore(newRoot());
  const fill = async (dest: string) => writeFileSync(join(dest, "f"), "z");
  for (const c of ["1", "2", "3"]) await store.ensureLayer(D(c), fill);
  store.commit(
    { name: "docker.io/library/x:1", id: D("c"), size: 1, layers: [D("1")], blobs: [], createdAt: "" },
    [[D("c"), new TextEncoder().encode("{}")]],
  );
  await store.pinned([D("2")], async () => {
    store.collectGarbage();
    expect(existsSync(store.layerDir(D("2")))).toBe(true);
  });
  expect(existsSync(store.layerDir(D("1")))).toBe(true);
  expect(existsSync(store.layerDir(D("3")))).toBe(false);
  store.collectGarbage();
  expect(existsSync(store.layerDir(D("2")))).toBe(false);
});
