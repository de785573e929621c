/**
 * Gives memory back when the daemon goes quiet. After start-up, and after any burst of work (a
 * rollout, 200 pods started), minik holds pages it no longer uses: free heap blocks the collector
 * keeps for the next allocation, and clean file pages of its own binary that start-up or the
 * burst touched. A quiet daemon — the usual state of a node on a laptop — releases them once
 * (see Platform.releaseMemory) and then stays put until it has been busy again, so a steady
 * trickle of work (probes, resyncs) never pays for repeated releases.
 *
 * "Quiet" is measured, not guessed from what the daemon is doing: the process's own CPU time over
 * one period stays under `quietCpuMs`. That needs nothing from the API or the controllers.
 */
export interface MemoryTrimmerOptions {
  /** Releases what the process does not use (a full GC, free heap pages, clean file pages). */
  release(): void;
  /** CPU time used by this process so far, in milliseconds (user + system). */
  cpuMs(): number;
  /** Says what a release gave back (one line per busy spell), when given with `rssBytes`. */
  log?: (message: string) => void;
  /** The process's resident set size in bytes. */
  rssBytes?: () => number;
  /** How often quietness is checked. */
  periodMs?: number;
  /** CPU time per period under which the process counts as quiet. */
  quietCpuMs?: number;
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

/** 5 s: long enough that a rollout's pauses do not count as quiet, short enough to settle soon after. */
export const TRIM_PERIOD_MS = 5_000;
/** 1 % of one core: an idle node with 50 pods uses ~0.2 % (its probes and status), a start uses far more. */
export const QUIET_CPU_MS = 50;

export function startMemoryTrimmer(options: MemoryTrimmerOptions): MemoryTrimmer {
  const periodMs = options.periodMs ?? TRIM_PERIOD_MS;
  const quietCpuMs = options.quietCpuMs ?? QUIET_CPU_MS;
  let last = options.cpuMs();
  // start-up itself was the first burst
  let busySinceRelease = true;
  let releases = 0;
  const trimmer: MemoryTrimmer = {
    tick() {
      const now = options.cpuMs();
      const used = now - last;
      last = now;
      if (used >= quietCpuMs) {
        busySinceRelease = true;
        return;
      }
      if (!busySinceRelease) return;
      busySinceRelease = false;
      releases++;
      const before = options.rssBytes?.();
      options.release();
      if (before !== undefined && options.log) {
        const after = options.rssBytes!();
        options.log(
          `memory: released ${mb(before - after)} MB after a busy spell (RSS ${mb(before)} → ${mb(after)} MB)`,
        );
      }
      // the release's own CPU time is not work the next period should see
      last = options.cpuMs();
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
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** This process's resident set size in bytes. */
export function processRssBytes(): number {
  return process.memoryUsage.rss();
}
