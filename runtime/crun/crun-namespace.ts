import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import type { CgroupHost } from "../cgroups/cgroup-host.ts";
import { mountPoints } from "../host/mounts.ts";
import { tracked } from "../supervise/exit-watcher.ts";
import { MS_BIND, MS_SHARED, mount, umount } from "../supervise/libc.ts";

/**
 * Where crun runs. On a hybrid-cgroup host crun 1.8 refuses to work ("cgroups in hybrid mode not
 * supported") unless it cannot see the cgroup2 mount. minik pays for that once: a holder process
 * (`unshare -m --propagation slave`, umount of the unified mount, then a sleep loop) keeps a
 * private mount namespace alive, and every crun call joins it with `nsenter -t PID -m`.
 *
 * Mounts minik makes later (overlay rootfs, sandbox namespace files, pod shm) must be visible in
 * there: the run dir is bind-mounted onto itself and made shared BEFORE the holder starts, so the
 * holder's slave copy receives every mount minik makes below it. The holder survives minik
 * restarts (pid file in the run dir) and is reused; v1/v2 hosts need no holder at all.
 */
export interface CrunNamespace {
  /** argv prefix that runs a command where crun may run; starts a new holder if it died. */
  prefix(): Promise<string[]>;
  readonly holderPid?: number;
}

/** The holder's argv[0], by which it is told from a recycled pid. */
export const HOLDER_NAME = "minik-crun-mntns";

/** The holder's pid file in the run dir: a restarted minik reuses the holder it names. */
export function holderPidFile(runDir: string): string {
  return `${runDir}/mntns-holder.pid`;
}

function mountinfoLine(path: string): string | undefined {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  return text.split("\n").find((l) => l.split(" ")[4] === path);
}

/** Makes `dir` a shared mount point (idempotent). */
export function ensureSharedMount(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const line = mountinfoLine(dir);
  if (line?.includes(" shared:")) return;
  if (!line) mount(dir, dir, null, MS_BIND);
  mount("none", dir, null, MS_SHARED);
}

function isHolder(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`\0${HOLDER_NAME}\0`);
  } catch {
    return false;
  }
}

function holderAlive(pid: number, unifiedMount: string): boolean {
  try {
    if (!isHolder(pid)) return false;
    const mounts = readFileSync(`/proc/${pid}/mountinfo`, "utf8");
    return !mounts.split("\n").some((l) => l.split(" ")[4] === unifiedMount);
  } catch {
    return false;
  }
}

export async function prepareCrunNamespace(host: CgroupHost, runDir: string): Promise<CrunNamespace> {
  ensureSharedMount(runDir);
  const unified = host.unifiedMount;
  if (host.mode !== "hybrid" || !unified) return { prefix: async () => [] };
  let pid = await startHolder(unified, runDir);
  let restarting: Promise<number> | undefined;
  return {
    get holderPid() {
      return pid;
    },
    // Something may kill the holder (an admin, a test runner's clean-up): the next call makes a new one.
    async prefix() {
      if (!isHolder(pid)) {
        restarting ??= startHolder(unified, runDir).finally(() => {
          restarting = undefined;
        });
        pid = await restarting;
      }
      return nsenter(pid);
    },
  };
}

/** Reuses a live holder from the pid file, or starts one; returns its pid. */
async function startHolder(unifiedMount: string, runDir: string): Promise<number> {
  const pidFile = holderPidFile(runDir);
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8"));
    if (pid > 0 && holderAlive(pid, unifiedMount)) return pid;
  }
  // The holder writes its own pid file once the umount succeeded, and exits by itself within
  // 10 s once that file is gone (data dir removed) or names another holder, so a forgotten
  // holder does not live forever.
  const script = [
    'umount "$1" || exit 1',
    'echo $$ > "$2"',
    "echo ready",
    "exec </dev/null >/dev/null 2>&1",
    // `read` is a builtin: no fork per check. A newer holder for the same dir retires this one.
    'while read -r p < "$2" && [ "$p" = "$$" ]; do sleep 10; done',
  ].join("\n");
  const proc = tracked(
    Bun.spawn(
      ["unshare", "-m", "--propagation", "slave", "sh", "-c", script, HOLDER_NAME, unifiedMount, pidFile],
      {
        detached: true,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      },
    ),
  );
  const reader = proc.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (!first.value || !new TextDecoder().decode(first.value).includes("ready")) {
    const err = await new Response(proc.stderr).text();
    throw new Error(`starting crun's mount namespace (hybrid cgroups): ${err.trim() || "holder exited"}`);
  }
  proc.unref();
  return proc.pid;
}

function nsenter(pid: number): string[] {
  return ["nsenter", "-t", String(pid), "-m", "--"];
}

/**
 * Undoes prepareCrunNamespace: stops the holder and unmounts the shared run dir. Only for a host
 * with no containers left (tests, `minik` clean-up); running containers need neither to keep running,
 * but crun calls on them need the holder.
 */
export function releaseCrunNamespace(runDir: string): void {
  stopHolder(runDir);
  rmSync(holderPidFile(runDir), { force: true });
  const below = mountPoints()
    .filter((m) => m.startsWith(`${runDir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of [...below, runDir]) umount(m);
}

/**
 * Kills the holder named in the run dir's pid file, if it still runs; returns its pid. The holder
 * would retire by itself once its pid file is gone, but only within 10 s.
 */
export function stopHolder(runDir: string): number | undefined {
  const pidFile = holderPidFile(runDir);
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8"));
  if (!(pid > 0 && isHolder(pid))) return undefined;
  try {
    process.kill(pid, "SIGKILL");
    return pid;
  } catch {
    return undefined;
  }
}
