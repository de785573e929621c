import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

/**
 * One `minik up` per bridge. A second one would reconcile the first one's pods away (their
 * namespaces share the prefix) and rewrite its nft table, so it must stop before touching
 * anything. A pid file under /run (gone at reboot); a holder that no longer runs (kill -9) is
 * taken over.
 */
export interface NodeLock {
  release(): void;
}

export const LOCK_DIR = "/run/minik";

/** The pid file of the minik up that holds `bridge`. */
export function lockFile(bridge: string, dir = LOCK_DIR): string {
  return `${dir}/${bridge}.pid`;
}

export function acquireNodeLock(bridge: string, dir = LOCK_DIR): NodeLock {
  mkdirSync(dir, { recursive: true });
  const path = lockFile(bridge, dir);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (holder && holder !== process.pid && alive(holder)) {
        throw new Error(
          `bridge ${bridge} is in use by another minik up (pid ${holder}); stop it first, or start this one with another --pod-cidr and bridge`,
        );
      }
      unlinkSync(path); // stale: its minik is gone
    }
  }
  return {
    release() {
      try {
        if (Number(readFileSync(path, "utf8").trim()) === process.pid) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
