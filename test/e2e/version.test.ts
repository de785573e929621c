import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless } from "../support/env.ts";
import { BINARY, type Daemon, removeDir, startDaemon } from "./daemon.ts";

const skip = !existsSync(BINARY) || skipUnless(host.canRunContainers, "e2e version", "needs root and crun");

/** `/version` of the compiled binary carries what scripts/build.ts stamped, not constants. */
describe.skipIf(skip)("compiled binary: /version", () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await startDaemon();
  }, 30_000);
  afterAll(async () => {
    if (d) {
      await d.stop();
      removeDir(d.dataDir);
    }
  }, 30_000);

  test("buildDate is when dist/minik was built; gitCommit is a commit of this repository", async () => {
    const v = (await (await fetch(`${d.url}/version`)).json()) as Record<string, string>;
    expect(v.gitVersion).toBe("v1.32.0-minik");
    const built = statSync(BINARY).mtimeMs;
    expect(v.buildDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(v.buildDate!) - built)).toBeLessThan(10 * 60_000);
    expect(v.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    const known = Bun.spawnSync([
      "git",
      "-C",
      join(import.meta.dir, "../.."),
      "cat-file",
      "-e",
      `${v.gitCommit}^{commit}`,
    ]);
    expect(known.exitCode).toBe(0);
    expect(["clean", "dirty"]).toContain(v.gitTreeState!);
  });
});
