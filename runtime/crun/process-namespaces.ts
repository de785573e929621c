import { readFileSync, readlinkSync, statSync } from "node:fs";
import type { NamespaceType, NamespaceView } from "../../core/seams/inspection.ts";

const TYPES: NamespaceType[] = ["pid", "mnt", "net", "uts", "ipc", "cgroup", "user", "time"];

/** `net:[4026532281]` → 4026532281 (what `ls -l /proc/PID/ns` shows). */
export function namespaceInode(link: string): number | undefined {
  const m = /\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

function inodeOf(pid: number | "self", type: NamespaceType): number | undefined {
  try {
    return namespaceInode(readlinkSync(`/proc/${pid}/ns/${type}`));
  } catch {
    return undefined;
  }
}

/**
 * The namespaces a process lives in, each compared with the host's and with the pod's. The host's
 * are minik's own (it runs in the host's namespaces; PID 1's may not even be readable), except the
 * mount namespace, which on hybrid cgroup hosts is a private one shared with crun — a container's
 * is its own either way. For the pod:
 * minik keeps a pod's net, ipc and uts namespaces as nsfs bind mounts (no pause process), and
 * stat(2) of such a mount gives the namespace's inode.
 */
export function processNamespaces(
  pid: number,
  podNamespaceFiles: Partial<Record<NamespaceType, string>>,
): NamespaceView[] {
  const out: NamespaceView[] = [];
  for (const type of TYPES) {
    const inode = inodeOf(pid, type);
    if (inode === undefined) continue;
    const podFile = podNamespaceFiles[type];
    const podInode = podFile ? statSync(podFile, { throwIfNoEntry: false })?.ino : undefined;
    const sharedWith = inode === inodeOf("self", type) ? "host" : podInode === inode ? "pod" : "container";
    out.push({ type, inode, sharedWith });
  }
  return out;
}

/** The process's PID inside its own PID namespace (the last NSpid field of /proc/PID/status). */
export function pidInContainer(pid: number): number | undefined {
  try {
    const line = /^NSpid:\s*(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    const ids = line?.trim().split(/\s+/).map(Number);
    return ids?.at(-1);
  } catch {
    return undefined;
  }
}

/** The overlay mount of a process's root, from its mountinfo (`/` as it sees it). */
export function rootOverlayMount(pid: number): string | undefined {
  try {
    for (const line of readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n")) {
      const [pre, post] = line.split(" - ");
      if (pre?.split(" ")[4] === "/" && post?.startsWith("overlay ")) return line;
    }
  } catch {}
  return undefined;
}
