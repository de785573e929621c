import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultDataDir, paths } from "../../core/config.ts";
import type { MinikUp } from "../../runtime/host/minik-processes.ts";
import { platform } from "../platform/index.ts";
import { UsageError } from "../usage-error.ts";

/**
 * `minik reset`: retires minik from this machine (runtime/host/host-reset.ts does the work).
 * Refuses while a `minik up` answers for the data dir, or runs anywhere on this machine.
 */
export interface ResetOptions {
  dataDir?: string;
  all?: boolean;
}

export async function reset(opts: ResetOptions): Promise<void> {
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  if (process.getuid?.() !== 0)
    throw new UsageError("minik reset needs root (it removes containers, namespaces and nftables rules)");
  if (!platform.nodeRuntime)
    throw new UsageError(
      `minik reset needs Bun (it drives the container runtime), not ${platform.name}: use the compiled binary`,
    );
  await refuseWhileServing(dataDir);
  // loaded lazily: the rest of the CLI never touches the runtime
  const { runningMinikUps } = await import("../../runtime/host/minik-processes.ts");
  refuseWhileRunning(runningMinikUps());
  const { resetHost } = await import("../../runtime/host/host-reset.ts");
  const say = (m: string) => console.log(m);
  await resetHost({ dataDir, all: opts.all, say });
  const left = !existsSync(dataDir) ? "not there" : "kept; --all removes it";
  say(`minik reset: done (data dir ${dataDir} ${opts.all ? "removed" : left})`);
}

/** A `minik up` that still answers would recreate everything at once: tell the user to stop it. */
async function refuseWhileServing(dataDir: string): Promise<void> {
  const file = paths.serverUrl(dataDir);
  if (!existsSync(file)) return;
  const url = readFileSync(file, "utf8").trim();
  const answer = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (answer) {
    throw new UsageError(
      `minik is running on ${url} with data dir ${dataDir}: stop that \`minik up\` first (Ctrl-C or kill its process), then run minik reset again`,
    );
  }
}

/**
 * The bridge, nft table and pod namespaces are machine-wide, so any other `minik up` on this
 * machine (another data dir) would lose its network too: refuse for that as well.
 */
function refuseWhileRunning(others: MinikUp[]): void {
  if (!others.length) return;
  const list = others.map((p) => `pid ${p.pid}: ${p.argv.join(" ")}`).join("; ");
  throw new UsageError(
    `another minik up is running on this machine (${list}); it shares the bridge, nft table and pod namespaces that reset removes: stop it first, then run minik reset again`,
  );
}
