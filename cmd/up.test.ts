import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureToken, up } from "./up.ts";

const dir = mkdtempSync(join(tmpdir(), "minik-up-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("the token file is created 0600, and a loosened one is put back to 0600 with a warning", () => {
  const warnings: string[] = [];
  const token = ensureToken(dir, (m) => warnings.push(m));
  const file = join(dir, "token");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(warnings).toEqual([]);
  chmodSync(file, 0o644);
  expect(ensureToken(dir, (m) => warnings.push(m))).toBe(token);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain("was mode 0644; set it back to 0600");
});

test("--anonymous is refused when any listener, the TLS one included, is off loopback", async () => {
  const never = join(dir, "never");
  await expect(
    up({ listen: "127.0.0.1:0", listenTls: "0.0.0.0:0", anonymous: true, dataDir: never, runtime: "none" }),
  ).rejects.toThrow("--anonymous is only allowed on loopback addresses, not 0.0.0.0");
  await expect(up({ listen: "0.0.0.0:0", anonymous: true, dataDir: never, runtime: "none" })).rejects.toThrow(
    "not 0.0.0.0",
  );
});

test("a bad --max-pods is refused before anything is created", async () => {
  const never = join(dir, "never-max-pods");
  for (const bad of ["0", "1.5", "many", "20000"])
    await expect(
      up({ listen: "127.0.0.1:0", dataDir: never, runtime: "none", maxPods: bad }),
    ).rejects.toThrow(`invalid --max-pods "${bad}": use a whole number from 1 to 10000`);
  expect(() => statSync(never)).toThrow();
});

test("a bad --idle-memory is refused before anything is created", async () => {
  const never = join(dir, "never-idle-memory");
  await expect(
    up({ listen: "127.0.0.1:0", dataDir: never, runtime: "none", idleMemory: "sometimes" }),
  ).rejects.toThrow("--idle-memory sometimes: give release (the default) or keep");
  expect(() => statSync(never)).toThrow();
});
