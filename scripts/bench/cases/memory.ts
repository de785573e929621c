/**
 * Memory: the daemon's RSS, and the PSS of everything minik adds besides the containers' own
 * processes (the daemon, its helpers such as the crun mount-namespace holder, any per-pod monitor).
 * Kernel memory (netns, veth, overlay, page cache) is not in PSS and not counted.
 */
import { readFileSync } from "node:fs";
import {
  BINARY,
  containerPids,
  cpuMs,
  descendants,
  type Minik,
  processTable,
  pssKb,
  rssKb,
  run,
} from "../lib.ts";

export interface MinikMemory {
  daemonRssKb: number;
  addedPssKb: number;
  processes: number;
}

export function minikMemory(m: Minik): MinikMemory {
  const table = processTable();
  const mine = descendants([m.pid], table);
  // helpers that daemonized (reparented to init) still name the data dir on their command line
  for (const pid of table.keys()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(m.dataDir))
        for (const d of descendants([pid], table)) mine.add(d);
    } catch {}
  }
  for (const c of descendants(containerPids(m.dataDir), table)) mine.delete(c);
  let pss = 0;
  for (const pid of mine) pss += pssKb(pid);
  return { daemonRssKb: rssKb(m.pid), addedPssKb: pss, processes: mine.size };
}

/**
 * Memory of a settled daemon after a forced full GC (SIGUSR2, see cmd/up.ts), as the median of
 * several samples: one sample caught the collector at a random point and moved by megabytes.
 */
export async function settledMemory(m: Minik, samples = 5): Promise<MinikMemory & { raw: MinikMemory[] }> {
  await quiet(m.pid);
  process.kill(m.pid, "SIGUSR2");
  await Bun.sleep(500);
  const raw: MinikMemory[] = [];
  for (let i = 0; i < samples; i++) {
    if (i) await Bun.sleep(200);
    raw.push(minikMemory(m));
  }
  const mid = (f: (x: MinikMemory) => number) => [...raw].map(f).sort((a, b) => a - b)[samples >> 1]!;
  return {
    daemonRssKb: mid((x) => x.daemonRssKb),
    addedPssKb: mid((x) => x.addedPssKb),
    processes: mid((x) => x.processes),
    raw,
  };
}

/**
 * Waits (at most 10 s) until the daemon's CPU time grows by less than 5 % of a core over 300 ms:
 * right after a ramp it still writes the pods' Events and statuses, and what that work has in
 * hand is not memory the pods hold.
 */
async function quiet(pid: number): Promise<void> {
  const until = Date.now() + 10_000;
  let before = cpuMs(pid).self;
  while (Date.now() < until) {
    await Bun.sleep(300);
    const now = cpuMs(pid).self;
    if (now - before < 15) return;
    before = now;
  }
}

/** Average PSS of podman's per-container monitors. */
export function conmonPssKb(pids: number[]): number {
  if (pids.length === 0) return Number.NaN;
  return pids.reduce((s, p) => s + pssKb(p), 0) / pids.length;
}

/** Idle memory of a node daemon: right after start-up, and as a quiet node holds it. */
export interface IdleMemory {
  /** Right after /readyz, before the daemon's first release (its first quiet check is 5 s after ready). */
  justStarted: MinikMemory;
  /** After its idle release, and one 30 s resync (service proxy, policies) since. */
  quiet: MinikMemory;
}

/**
 * Idle memory of a node daemon of its own (no objects, no pods), started and reset here. The main
 * bench daemon runs with `--idle-memory keep`, so that its samples all find it warm and a release
 * between two of them never passes for memory per pod; this one shows what a quiet node keeps.
 */
export async function idleNodeMemory(start: () => Promise<Minik>): Promise<IdleMemory> {
  const m = await start();
  try {
    const justStarted = await settledMemory(m);
    await waitForRelease(m, 0);
    await Bun.sleep(31_000);
    return { justStarted, quiet: await settledMemory(m) };
  } finally {
    await m.stop();
    await run([BINARY, "reset", "--all", "--data-dir", m.dataDir]);
  }
}

/** Waits until the daemon has released idle memory more than `seen` times (cmd/memory-trimmer.ts). */
export async function waitForRelease(m: Minik, seen: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (m.releases() <= seen) {
    if (Date.now() > until) throw new Error(`the daemon released no idle memory within ${timeoutMs} ms`);
    await Bun.sleep(100);
  }
}
