/**
 * Several test runs may share the registries (engineers in parallel, or `scripts/test` while a
 * manual start is up). Each start leaves a lease named by its caller's pid (scripts/test's shell);
 * stop drops its caller's lease and stops the registries only when no live lease remains.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = (out: string) => join(out, "run", "leases");

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function takeLease(out: string, holder = process.ppid): void {
  mkdirSync(dir(out), { recursive: true });
  writeFileSync(join(dir(out), String(holder)), "");
}

/** Drops `holder`'s lease and dead ones; returns the live holders left. */
export function dropLease(out: string, holder = process.ppid): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir(out));
  } catch {}
  const live: number[] = [];
  for (const n of names) {
    const pid = Number(n);
    if (pid === holder || !alive(pid)) rmSync(join(dir(out), n), { force: true });
    else live.push(pid);
  }
  return live;
}
