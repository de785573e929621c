import { readFileSync } from "node:fs";

/** Every mount point of this process's mount namespace, as /proc/self/mountinfo lists them. */
export function mountPoints(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter(Boolean);
}

/** Mount points at or below `dir`. */
export function mountsBelow(dir: string): string[] {
  return mountPoints().filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Lazily unmounts every mount at or below `dir`, deepest first; returns what it unmounted. */
export function unmountBelow(dir: string): string[] {
  const done: string[] = [];
  // a path may be mounted more than once (stacked): repeat until nothing is left
  for (let round = 0; round < 5; round++) {
    const mounts = [...new Set(mountsBelow(dir))].sort((a, b) => b.length - a.length);
    if (!mounts.length) break;
    for (const m of mounts) {
      if (Bun.spawnSync(["umount", "-l", m]).exitCode === 0) done.push(m);
    }
  }
  return [...new Set(done)];
}
