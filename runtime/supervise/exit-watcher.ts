import { readdirSync, readFileSync } from "node:fs";
import {
  CLD_EXITED,
  closeFd,
  pidfdExitInfo,
  pidfdOpen,
  pidfdSendSignal,
  readEventfd,
  setChildSubreaper,
  waitPidfd,
  waitStatusToExitCode,
} from "./libc.ts";
import { createPollWorker } from "./poll-worker.ts";

/**
 * Learns container exits without a monitor process per container. minik is a child subreaper, so
 * `crun run -d`'s container init re-parents to it; a pidfd per init is watched by the poll worker
 * and reaped with waitid(P_PIDFD). After a restart (init re-parented to PID 1 instead) the status
 * comes from /proc/PID/stat field 52 while it is a zombie, else PIDFD_INFO_EXIT once reaped.
 */

export interface ExitInfo {
  /** undefined when the status could not be learned (exit happened while nobody could see it). */
  exitCode?: number;
}

export interface ExitWatcher {
  /** Calls `onExit` once when `pid` exits. Returns false when the process is already gone. */
  watchPid(pid: number, onExit: (info: ExitInfo) => void): boolean;
  unwatchPid(pid: number): void;
  /**
   * Signals a watched process through its pidfd (no `crun kill` process, no pid reuse race):
   * true when sent, false when it has already exited, undefined when `pid` is not watched.
   */
  signal(pid: number, signal: number): boolean | undefined;
  /** Calls `onFire` each time the eventfd counts (OOM notifications). Takes ownership of the fd. */
  watchEventfd(fd: number, onFire: () => void): void;
  unwatchEventfd(fd: number): void;
  /** Reaps zombies re-parented to us that no one else will reap (crun's intermediate process). */
  sweepZombies(): void;
  close(): void;
}

const ownSpawns = new Set<number>();

/** Marks a Bun.spawn child so the zombie sweep never steals the status Bun waits for. */
export function tracked<P extends { pid: number; exited: Promise<number> }>(proc: P): P {
  ownSpawns.add(proc.pid);
  proc.exited.finally(() => ownSpawns.delete(proc.pid));
  return proc;
}

function procStat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = s.lastIndexOf(")");
    return [
      s.slice(s.indexOf("(") + 1, close),
      ...s
        .slice(close + 2)
        .trim()
        .split(" "),
    ];
  } catch {
    return undefined;
  }
}

/** Field 22 (start time in clock ticks since boot): tells a pid from a later process reusing it. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[20];
}

/** [comm, state, …]; field 52 (exit_code, wait format) sits at index 52-2. */
function zombieExitCode(pid: number): number | undefined {
  const f = procStat(pid);
  if (f?.[1] !== "Z") return undefined;
  const ws = Number(f[50]);
  return Number.isFinite(ws) ? waitStatusToExitCode(ws) : undefined;
}

/** A waitid result as an exit code: the status, or 128 + the signal. */
function exitCodeOf(w: { code: number; status: number }): number {
  return w.code === CLD_EXITED ? w.status : 128 + w.status;
}

function ownChildren(): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync("/proc/self/task")) {
      const text = readFileSync(`/proc/self/task/${t}/children`, "utf8").trim();
      if (text) for (const p of text.split(" ")) out.push(Number(p));
    }
  } catch {}
  return out;
}

/** Open watchers: the process is a subreaper only while one is (tests open and close many). */
let openWatchers = 0;

export function createExitWatcher(): ExitWatcher {
  if (openWatchers++ === 0) setChildSubreaper(true);
  const pids = new Map<number, { fd: number; onExit: (info: ExitInfo) => void }>();
  const byFd = new Map<number, number>();
  const eventfds = new Map<number, () => void>();
  let seenZombies = new Set<number>();
  /**
   * Exit codes of zombies the sweep reaped: a container init that exits while its `crun run` is
   * still returning can be taken by a sweep before watchPid is called for it (two pods starting
   * at once), and its status must not be lost. Bounded; each is handed out once.
   */
  const reapedExits = new Map<number, number>();
  let closed = false;

  const publish = () => worker.watch([...byFd.keys(), ...eventfds.keys()]);

  function resolveExit(pid: number, fd: number, attempt = 0): void {
    const entry = pids.get(pid);
    if (!entry || entry.fd !== fd) return;
    const reaped = waitPidfd(fd);
    let exitCode: number | undefined;
    if (reaped) exitCode = exitCodeOf(reaped);
    else {
      exitCode = zombieExitCode(pid);
      if (exitCode === undefined) {
        const ws = pidfdExitInfo(fd);
        if (ws !== undefined) exitCode = waitStatusToExitCode(ws);
      }
    }
    // Not our child and PID 1 has not reaped yet: its status appears in pidfd info shortly.
    if (exitCode === undefined && attempt < 40 && !closed) {
      setTimeout(() => resolveExit(pid, fd, attempt + 1), 100);
      return;
    }
    pids.delete(pid);
    byFd.delete(fd);
    closeFd(fd);
    publish();
    entry.onExit({ exitCode });
  }

  const worker = createPollWorker((ready) => {
    for (const fd of ready) {
      const pid = byFd.get(fd);
      if (pid !== undefined) resolveExit(pid, fd);
      const onFire = eventfds.get(fd);
      if (onFire && readEventfd(fd) > 0n) onFire();
    }
    publish(); // unmute the eventfds that stay watched
  });

  const sweepTimer = setInterval(() => watcher.sweepZombies(), 2000);
  sweepTimer.unref();

  const watcher: ExitWatcher = {
    watchPid(pid, onExit) {
      if (pids.has(pid)) watcher.unwatchPid(pid);
      const fd = pidfdOpen(pid);
      if (fd === undefined) {
        const exitCode = reapedExits.get(pid);
        if (exitCode === undefined) return false;
        reapedExits.delete(pid);
        queueMicrotask(() => onExit({ exitCode }));
        return true;
      }
      reapedExits.delete(pid);
      pids.set(pid, { fd, onExit });
      byFd.set(fd, pid);
      publish();
      return true;
    },
    signal(pid, signal) {
      const e = pids.get(pid);
      return e ? pidfdSendSignal(e.fd, signal) : undefined;
    },
    unwatchPid(pid) {
      const e = pids.get(pid);
      if (!e) return;
      pids.delete(pid);
      byFd.delete(e.fd);
      publish();
      closeFd(e.fd);
    },
    watchEventfd(fd, onFire) {
      eventfds.set(fd, onFire);
      publish();
    },
    unwatchEventfd(fd) {
      if (!eventfds.delete(fd)) return;
      publish();
      closeFd(fd);
    },
    sweepZombies() {
      const zombies = new Set<number>();
      for (const pid of ownChildren()) {
        if (ownSpawns.has(pid) || pids.has(pid)) continue;
        const f = procStat(pid);
        if (f?.[1] !== "Z") continue;
        // crun's intermediate process is surely not Bun's; anything else must stay a zombie
        // across two sweeps (Bun reaps its own children at once) before we take it.
        if (f[0] === "crun" || seenZombies.has(pid)) {
          const fd = pidfdOpen(pid);
          if (fd !== undefined) {
            const status = waitPidfd(fd);
            closeFd(fd);
            if (status && f[0] !== "crun") {
              reapedExits.set(pid, exitCodeOf(status));
              if (reapedExits.size > 1000) reapedExits.delete(reapedExits.keys().next().value!);
            }
          }
        } else zombies.add(pid);
      }
      seenZombies = zombies;
    },
    close() {
      if (closed) return;
      closed = true;
      if (--openWatchers === 0) setChildSubreaper(false);
      clearInterval(sweepTimer);
      worker.close();
      for (const { fd } of pids.values()) closeFd(fd);
      for (const fd of eventfds.keys()) closeFd(fd);
      pids.clear();
      byFd.clear();
      eventfds.clear();
    },
  };
  return watcher;
}
