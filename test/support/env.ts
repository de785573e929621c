import { execSync } from "node:child_process";

/**
 * What this host can do, for tests that need it. Tests that need root, crun or network namespaces
 * use `describe.skipIf(!host.canRunContainers)` and print why once, so a run without root says so
 * instead of passing silently. CI runs as root, where they all run for real.
 */
function has(cmd: string): boolean {
  try {
    execSync(`command -v ${cmd}`, { stdio: "ignore", shell: "/bin/bash" });
    return true;
  } catch {
    return false;
  }
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasCrun = has("crun");
const hasIp = has("ip");
const hasNft = has("nft");

export const host = {
  isRoot,
  hasCrun,
  canRunContainers: isRoot && hasCrun,
  canUseNetns: isRoot && hasIp,
  canUseNftables: isRoot && hasNft,
};

const warned = new Set<string>();
/** Returns true when the suite must skip, printing the reason once. */
export function skipUnless(ok: boolean, suite: string, reason: string): boolean {
  if (!ok && !warned.has(suite)) {
    warned.add(suite);
    console.warn(`skipping ${suite}: ${reason}`);
  }
  return !ok;
}

/** Polls `check` until it returns a truthy value or the deadline passes. Never a fixed sleep. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, what = "condition" } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
