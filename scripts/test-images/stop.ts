/**
 * Stops exactly the processes scripts/test-images/start started (by pid from env.json), unless
 * another live test run still holds a lease on them (see leases.ts). `--force` stops regardless.
 *
 *   bun scripts/test-images/stop.ts [--force] [outDir]
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_OUT } from "./build.ts";
import { dropLease } from "./leases.ts";
import type { TestImagesEnv } from "./start.ts";

const args = process.argv.slice(2);
const force = args.includes("--force");
const out = args.find((a) => !a.startsWith("--")) ?? DEFAULT_OUT;
const envPath = join(out, "env.json");
const others = dropLease(out);
if (others.length > 0 && !force) {
  console.log(`test registries kept: still used by pid ${others.join(", ")} (stop --force to stop anyway)`);
} else if (existsSync(envPath)) {
  const env = JSON.parse(readFileSync(envPath, "utf8")) as TestImagesEnv;
  for (const pid of env.pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
  }
  rmSync(envPath);
  console.log(`test registries stopped (${env.pids.length} processes)`);
}
