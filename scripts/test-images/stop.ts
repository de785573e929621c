/** Stops exactly the processes scripts/test-images/start started (by pid from env.json). */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_OUT } from "./build.ts";
import type { TestImagesEnv } from "./start.ts";

const envPath = join(process.argv[2] ?? DEFAULT_OUT, "env.json");
if (existsSync(envPath)) {
  const env = JSON.parse(readFileSync(envPath, "utf8")) as TestImagesEnv;
  for (const pid of env.pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
  }
  rmSync(envPath);
  console.log(`test registries stopped (${env.pids.length} processes)`);
}
