import { afterEach, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCrunProbe } from "./crun-cli.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A stand-in crun that counts its runs in a file beside it. */
function fakeCrun(version: string, exitCode = 0): { path: string; runs: () => number } {
  dir ??= mkdtempSync(join(tmpdir(), "minik-crun-probe-"));
  const path = join(dir, "crun");
  const count = join(dir, "runs");
  writeFileSync(path, `#!/bin/sh\necho x >> ${count}\necho "crun version ${version}"\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return { path, runs: () => readFileSync(count, "utf8").split("\n").filter(Boolean).length };
}

test("the crun probe runs crun once, then again only when the binary on disk changed", async () => {
  const crun = fakeCrun("1.8.1");
  const probe = createCrunProbe(crun.path);
  await probe();
  await probe();
  await probe();
  expect(crun.runs()).toBe(1);
  fakeCrun("1.19.1"); // an upgrade replaces the file
  await probe();
  expect(crun.runs()).toBe(2);
});

test("the crun probe fails for a crun that no longer answers or is gone", async () => {
  const crun = fakeCrun("1.8.1");
  const probe = createCrunProbe(crun.path);
  await probe();
  fakeCrun("broken-build", 1);
  await expect(probe()).rejects.toThrow(/crun/);
  // a failed check is not remembered as verified
  await expect(probe()).rejects.toThrow(/crun/);
  rmSync(crun.path);
  await expect(probe()).rejects.toThrow(/is gone/);
  await expect(createCrunProbe("no-such-crun-anywhere")()).rejects.toThrow(/not on PATH/);
});
