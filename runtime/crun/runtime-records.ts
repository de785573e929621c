import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type {
  ContainerState,
  ContainerStatus,
  HostNamespaces,
  SandboxStatus,
} from "../../core/seams/container-runtime.ts";

/**
 * What CrunRuntime remembers, one small JSON per pod and per container under the data dir, so a
 * new process (after `minik up` restarts or is kill -9'd) adopts what runs instead of duplicating
 * it. Written to a temp file and renamed: a crash never leaves half a record.
 */
export interface SandboxRecord {
  podUid: string;
  namespace: string;
  name: string;
  hostname: string;
  ip?: string;
  ready: boolean;
  createdAt: string;
  /** The netns came from the PodNetwork (to be torn down there) rather than our own unshare. */
  networkManaged: boolean;
  /** boot_id of the host when created: a different one means a reboot took everything. */
  bootId: string;
  /** Namespaces shared with the host (hostNetwork/hostPID/hostIPC): never made nor torn down. */
  hostNamespaces?: HostNamespaces;
}

export interface ContainerRecord {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  state: ContainerState;
  pid?: number;
  /** The init's start time (/proc/PID/stat field 22), so adoption never mistakes a reused pid. */
  pidStart?: string;
  cgroupPath: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  oomKilled?: boolean;
  /** Started with `stdin`: its fd 0 is the FIFO at layout.stdin(id) (see container-stdin.ts). */
  stdin?: boolean;
  bootId: string;
}

export function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

export function writeRecord(file: string, record: object): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, file);
}

export function readRecords<T>(dir: string, file: string): T[] {
  const out: T[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      out.push(JSON.parse(readFileSync(`${dir}/${n}/${file}`, "utf8")) as T);
    } catch {}
  }
  return out;
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The exit as Kubernetes words it: OOMKilled, Completed, Error, or unknown when it was not seen. */
export function recordExit(r: ContainerRecord, exitCode: number | undefined, oomKilled: boolean): void {
  r.state = "exited";
  r.finishedAt = new Date().toISOString();
  r.exitCode = exitCode;
  if (oomKilled) r.reason = "OOMKilled";
  else if (exitCode === undefined) {
    r.reason = "ContainerStatusUnknown";
    r.message = "the container exited while minik was not running; its exit code is lost";
  } else r.reason = exitCode === 0 ? "Completed" : "Error";
}

export function toContainerStatus(r: ContainerRecord): ContainerStatus {
  const { id, podUid, name, attempt, image, imageId, state, pid, createdAt, startedAt, finishedAt } = r;
  return {
    id,
    podUid,
    name,
    attempt,
    image,
    imageId,
    state,
    ...(state === "running" && pid ? { pid } : {}),
    createdAt,
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.message ? { message: r.message } : {}),
  };
}

export function toSandboxStatus(r: SandboxRecord): SandboxStatus {
  return { podUid: r.podUid, ...(r.ip ? { ip: r.ip } : {}), ready: r.ready, createdAt: r.createdAt };
}
