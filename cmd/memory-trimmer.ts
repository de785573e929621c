/**
 * Gives memory back when the daemon goes quiet. After start-up, and after any burst of work (a
 * rollout, 200 pods started), minik holds pages it no longer uses: free heap blocks the collector
 * keeps for the next allocation, and clean file pages of its own binary that start-up or the
 * burst touched. A daemon that has stayed quiet a while — the usual state of a node on a laptop —
 * releases them once (see Platform.releaseMemory), and again only after real work and a minimum
 * gap: pages paged out and needed again are read back, so a daemon that wavers between a little
 * work and none must not release on every lull.
 *
 * Quiet and busy are measured, not guessed from what the daemon is doing: the process's own CPU
 * time per period. That needs nothing from the API or the controllers.
 */
export interface MemoryTrimmerOptions {
  /** Releases what the process does not use (a full GC, free heap pages, clean file pages). */
  release(): void;
  /** Says what a release gave back (one line per release). */
  log?: (message: string) => void;
  /** CPU time used by this process so far, in milliseconds (default: node:process; tests fake it). */
  cpuMs?: () => number;
  /** The process's resident set size in bytes (default: node:process). */
  rssBytes?: () => number;
  /** How often CPU time is looked at. */
  periodMs?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

export interface MemoryTrimmer {
  /** One check, as the timer makes it (exposed for tests). */
  tick(): void;
  /** How many times memory was released. */
  readonly releases: number;
  stop(): void;
}

/** How often CPU time is looked at. */
export const TRIM_PERIOD_MS = 5_000;
/**
 * Under 3 % of a core over a period is quiet. An idle node (its Lease, health checks, resyncs and
 * collector threads) measured 0.5–1 % on a quiet afternoon but 1–3.6 % per period on a slower
 * evening of the same machine (issue 17), where a 2 % bound never saw three quiet periods in a row;
 * 4 % released while start-up's last work still ran, and those pages came straight back.
 */
export const QUIET_CPU_MS = 150;
/** Quiet periods in a row before a release: 15 s, so a pause inside a rollout is not idleness. */
export const QUIET_PERIODS = 3;
/** 10 % of a core over a period is work (pods starting, a rollout, a burst of requests), and re-arms. */
export const BUSY_CPU_MS = 500;
/** At most one release a minute, whatever the daemon does: bounds the pages read back. */
export const MIN_RELEASE_GAP_MS = 60_000;

export function startMemoryTrimmer(options: MemoryTrimmerOptions): MemoryTrimmer {
  const periodMs = options.periodMs ?? TRIM_PERIOD_MS;
  const cpuMs = options.cpuMs ?? processCpuMs;
  const rssBytes = options.rssBytes ?? processRssBytes;
  const gapPeriods = Math.ceil(MIN_RELEASE_GAP_MS / periodMs);
  let last = cpuMs();
  // start-up itself was the first burst
  let armed = true;
  let quietInARow = 0;
  // periods since the last release
  let sinceRelease = Number.POSITIVE_INFINITY;
  let releases = 0;
  const trimmer: MemoryTrimmer = {
    tick() {
      const now = cpuMs();
      const used = now - last;
      last = now;
      sinceRelease++;
      if (used >= BUSY_CPU_MS) armed = true;
      quietInARow = used < QUIET_CPU_MS ? quietInARow + 1 : 0;
      if (!armed || quietInARow < QUIET_PERIODS || sinceRelease < gapPeriods) return;
      armed = false;
      sinceRelease = 0;
      releases++;
      const before = rssBytes();
      options.release();
      const after = rssBytes();
      options.log?.(
        `memory: released ${mb(before - after)} MB after a busy spell (RSS ${mb(before)} → ${mb(after)} MB)`,
      );
      // the release's own CPU time is not work the next period should see
      last = cpuMs();
    },
    get releases() {
      return releases;
    },
    stop() {
      (options.clearInterval ?? ((h) => clearInterval(h as ReturnType<typeof setInterval>)))(handle);
    },
  };
  const handle = (options.setInterval ?? setInterval)(() => trimmer.tick(), periodMs);
  (handle as { unref?: () => void }).unref?.();
  return trimmer;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** This process's CPU time in milliseconds (node:process, as Bun and Deno both offer it). */
function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** This process's resident set size in bytes. */
function processRssBytes(): number {
  return process.memoryUsage.rss();
}
