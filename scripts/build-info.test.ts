import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDefines, buildInfo } from "./build-info.ts";

const repo = join(import.meta.dir, "..");

test("the build stamps this checkout's commit and the build time in Kubernetes' format", () => {
  const head = Bun.spawnSync(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.toString().trim();
  const info = buildInfo(repo, new Date("2026-12-06T12:30:45.678Z"));
  expect(info.gitCommit).toBe(head);
  expect(info.gitCommit).toMatch(/^[0-9a-f]{40}$/);
  expect(info.buildDate).toBe("2026-12-06T12:30:45Z");
  expect(["clean", "dirty"]).toContain(info.gitTreeState);
  expect(buildDefines(info)["process.env.MINIK_GIT_COMMIT"]).toBe(JSON.stringify(head));
});

test("outside a git checkout the commit and tree state stay empty", () => {
  const dir = mkdtempSync(join(tmpdir(), "minik-build-info-"));
  try {
    const info = buildInfo(dir);
    expect(info.gitCommit).toBe("");
    expect(info.gitTreeState).toBe("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
