import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { overlayChanges } from "./overlay-changes.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "minik-overlay-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("added, modified and whited-out paths of an upper dir, against the lower layers", () => {
  const lower = join(dir, "lower");
  const init = join(dir, "init");
  const upper = join(dir, "upper");
  mkdirSync(join(lower, "etc"), { recursive: true });
  writeFileSync(join(lower, "etc/motd"), "hello");
  writeFileSync(join(lower, "etc/issue"), "debian");
  mkdirSync(join(init, "etc"), { recursive: true });
  writeFileSync(join(init, "etc/hosts"), "127.0.0.1 localhost");
  mkdirSync(join(upper, "etc"), { recursive: true });
  mkdirSync(join(upper, "data/new"), { recursive: true });
  writeFileSync(join(upper, "etc/motd"), "changed");
  writeFileSync(join(upper, "etc/hosts"), "changed too");
  writeFileSync(join(upper, "data/new/file"), "x");
  // A whiteout is a 0/0 character device; making one needs root (mknod).
  const root = process.getuid?.() === 0;
  if (root) Bun.spawnSync(["mknod", join(upper, "etc/issue"), "c", "0", "0"]);

  const changes = overlayChanges(upper, [init, lower]);
  expect(changes.added).toEqual(["/data/", "/data/new/", "/data/new/file"]);
  expect(changes.modified).toEqual(["/etc/hosts", "/etc/motd"]);
  expect(changes.deleted).toEqual(root ? ["/etc/issue"] : []);
});
