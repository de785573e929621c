import { readdirSync, readFileSync } from "node:fs";

/** A live `minik up` process and its command line. */
export interface MinikUp {
  pid: number;
  argv: string[];
}

/**
 * Every live `minik up` process but this one (the compiled binary or `bun cmd/main.ts up`). They
 * share the machine-wide bridge, nft table and pod namespaces, so clean-up must wait for them.
 */
export function runningMinikUps(): MinikUp[] {
  const out: MinikUp[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = commandLine(entry);
    const up = argv?.indexOf("up") ?? -1;
    if (argv && up > 0 && argv.slice(0, up).some((a) => /(^|\/)minik$|cmd\/main\.ts$/.test(a)))
      out.push({ pid: Number(entry), argv });
  }
  return out;
}

/** undefined once the process is gone (it may exit while we scan). */
function commandLine(pid: string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}
