import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { tracked } from "../supervise/exit-watcher.ts";
import {
  inNewNamespaces,
  MS_BIND,
  MS_NODEV,
  MS_NOSUID,
  mount,
  sethostname,
  umount,
} from "../supervise/libc.ts";

/**
 * A pod sandbox without a pause process: the IPC and UTS namespaces (and the network namespace
 * when no PodNetwork provides one) are kept alive by bind-mounting their nsfs files under the
 * pod's run dir (unshare(2), then a bind mount of /proc/thread-self/ns/*), and the pod's /dev/shm is one tmpfs every
 * container binds. The run dir is a shared mount, so these reach crun's mount namespace too.
 */
export interface SandboxPaths {
  dir: string;
  net: string;
  ipc: string;
  uts: string;
  shm: string;
}

export function sandboxPaths(runPodDir: string): SandboxPaths {
  return {
    dir: runPodDir,
    net: `${runPodDir}/net`,
    ipc: `${runPodDir}/ipc`,
    uts: `${runPodDir}/uts`,
    shm: `${runPodDir}/shm`,
  };
}

function touch(file: string): void {
  closeSync(openSync(file, "a"));
}

/**
 * The persistent IPC and UTS namespaces (hostname set inside) and the pod's /dev/shm. Made with
 * unshare(2)/sethostname(2) on this thread (no exec: ~0.2 ms instead of ~5 ms for
 * `unshare … sh -c hostname`), their nsfs files bind-mounted, then the thread goes back.
 * Synchronous, so it runs while the pod network's processes do. A namespace the pod shares with
 * the host (hostIPC; hostNetwork brings the host's UTS) is not made: its file stays a plain file.
 */
export function createIpcUts(paths: SandboxPaths, hostname: string, host: HostShared = {}): void {
  mkdirSync(paths.shm, { recursive: true });
  for (const f of [paths.ipc, paths.uts, paths.net]) touch(f);
  const own = (["ipc", "uts"] as const).filter((k) => !(k === "ipc" ? host.ipc : host.uts));
  try {
    if (own.length)
      inNewNamespaces(own, () => {
        if (own.includes("uts")) sethostname(hostname);
        for (const k of own) mount(`/proc/thread-self/ns/${k}`, paths[k], null, MS_BIND);
      });
    // With hostIPC the containers bind the host's /dev/shm instead (container-bundle.ts).
    if (!host.ipc) mount("shm", paths.shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k");
  } catch (e) {
    destroySandboxNamespaces(paths);
    throw e;
  }
}

/** What of the host a sandbox shares: its UTS namespace comes with the host's network. */
export interface HostShared {
  ipc?: boolean;
  uts?: boolean;
}

/**
 * Binds the given netns to `paths.net` so crun's mount namespace sees it whatever its origin, or
 * makes a private one there with lo UP when none is given (crun never brings lo up).
 */
export async function attachNetns(paths: SandboxPaths, netnsPath?: string): Promise<void> {
  try {
    if (netnsPath) mount(netnsPath, paths.net, null, MS_BIND);
    else await privateNetns(paths.net);
  } catch (e) {
    destroySandboxNamespaces(paths);
    throw e;
  }
}

/** A network namespace with only lo, UP, kept by a bind mount on `file`. */
async function privateNetns(file: string): Promise<void> {
  const argv = ["unshare", `--net=${file}`, "ip", "link", "set", "lo", "up"];
  const proc = tracked(Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" }));
  if ((await proc.exited) !== 0) {
    const err = await new Response(proc.stderr).text();
    throw new Error(`creating the pod's network namespace (${argv.join(" ")}): ${err.trim()}`);
  }
}

export function destroySandboxNamespaces(paths: SandboxPaths): void {
  for (const p of [paths.net, paths.ipc, paths.uts, paths.shm]) umount(p);
}

export function removeSandboxDir(paths: SandboxPaths): void {
  rmSync(paths.dir, { recursive: true, force: true });
}
