import { describe, expect, test } from "bun:test";
import { join } from "node:path";

/**
 * The type checker and the linter as part of the suite: `scripts/test` (and so CI) sets
 * MINIK_STATIC_CHECKS=1; a plain `bun test` skips them, as they take a minute.
 */
const ROOT = join(import.meta.dir, "..");
const enabled = process.env.MINIK_STATIC_CHECKS === "1";
if (!enabled) console.error("static checks skipped: set MINIK_STATIC_CHECKS=1 (scripts/test does)");

async function run(argv: string[]): Promise<{ code: number; output: string }> {
  const p = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, output: `${out}${err}`.slice(-4000) };
}

describe.skipIf(!enabled)("static checks", () => {
  test("tsc --noEmit finds no type error", async () => {
    const r = await run(["bunx", "tsc", "--noEmit", "-p", "."]);
    if (r.code !== 0) throw new Error(`tsc --noEmit failed:\n${r.output}`);
    expect(r.code).toBe(0);
  }, 600_000);

  test("biome check finds nothing to fix", async () => {
    const r = await run(["bunx", "biome", "check", "."]);
    if (r.code !== 0) throw new Error(`biome check failed:\n${r.output}`);
    expect(r.code).toBe(0);
  }, 120_000);
});
