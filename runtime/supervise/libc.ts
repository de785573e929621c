import { dlopen, read } from "bun:ffi";

/**
 * The few libc calls minik's supervisor needs and Bun does not offer: subreaper, pidfds, waitid,
 * eventfd, poll and mount(2). Measured through bun:ffi on kernel 6.18 (see supervision notes):
 * a syscall costs ~0.1 ms where spawning /bin/mount costs ~2 ms.
 */
const lib = dlopen("libc.so.6", {
  prctl: { args: ["i32", "u64", "u64", "u64", "u64"], returns: "i32" },
  // number + up to four arguments (unused ones passed as 0, never left to chance)
  syscall: { args: ["i64", "i64", "i64", "i64", "i64"], returns: "i64" },
  waitid: { args: ["i32", "u32", "ptr", "i32"], returns: "i32" },
  ioctl: { args: ["i32", "u64", "ptr"], returns: "i32" },
  eventfd: { args: ["u32", "i32"], returns: "i32" },
  read: { args: ["i32", "ptr", "u64"], returns: "i64" },
  write: { args: ["i32", "ptr", "u64"], returns: "i64" },
  close: { args: ["i32"], returns: "i32" },
  mount: { args: ["ptr", "ptr", "ptr", "u64", "ptr"], returns: "i32" },
  umount2: { args: ["ptr", "i32"], returns: "i32" },
  mkfifo: { args: ["ptr", "u32"], returns: "i32" },
  getrlimit: { args: ["i32", "ptr"], returns: "i32" },
  open: { args: ["ptr", "i32"], returns: "i32" },
  unshare: { args: ["i32"], returns: "i32" },
  setns: { args: ["i32", "i32"], returns: "i32" },
  sethostname: { args: ["ptr", "u64"], returns: "i32" },
  strerror: { args: ["i32"], returns: "cstring" },
  __errno_location: { args: [], returns: "ptr" },
}).symbols;

const SYS_pidfd_open = 434;
const SYS_pidfd_send_signal = 424;
const PR_SET_CHILD_SUBREAPER = 36;
const P_PIDFD = 3;
const WEXITED = 4;
const WNOHANG = 1;
const EFD_CLOEXEC = 0x80000;
const EFD_NONBLOCK = 0x800;
const PIDFD_GET_INFO = 0xc040ff0bn;
const PIDFD_INFO_EXIT = 8n;
const RLIMIT_NOFILE = 7;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
const O_RDONLY_CLOEXEC = 0o2000000;

export function errno(): number {
  const p = lib.__errno_location();
  return p ? read.i32(p, 0) : 0;
}

export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${lib.strerror(errno)} (errno ${errno})`);
    this.name = "SyscallError";
  }
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

export function setChildSubreaper(on = true): void {
  if (lib.prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) !== 0)
    throw new SyscallError("prctl(PR_SET_CHILD_SUBREAPER)", errno());
}

/** Returns a pidfd, or undefined when the process is gone (ESRCH). */
export function pidfdOpen(pid: number): number | undefined {
  const fd = Number(lib.syscall(SYS_pidfd_open, pid, 0, 0, 0));
  if (fd >= 0) return fd;
  const e = errno();
  if (e === 3 /* ESRCH */ || e === 22 /* EINVAL */) return undefined;
  throw new SyscallError(`pidfd_open(${pid})`, e);
}

/**
 * Sends `signal` to the process behind `pidfd` (race-free: a reused pid is another process).
 * False when it has already exited (ESRCH).
 */
export function pidfdSendSignal(pidfd: number, signal: number): boolean {
  if (Number(lib.syscall(SYS_pidfd_send_signal, pidfd, signal, 0, 0)) === 0) return true;
  const e = errno();
  if (e === 3 /* ESRCH */) return false;
  throw new SyscallError(`pidfd_send_signal(${signal})`, e);
}

export interface WaitStatus {
  /** CLD_EXITED, CLD_KILLED or CLD_DUMPED */
  code: number;
  /** exit status or signal number */
  status: number;
}

/** Reaps the process behind `pidfd` if it is our (zombie) child; undefined when not ours or not yet exited. */
export function waitPidfd(pidfd: number): WaitStatus | undefined {
  const si = new Uint8Array(128);
  const r = lib.waitid(P_PIDFD, pidfd, si, WEXITED | WNOHANG);
  if (r !== 0) return undefined;
  const v = new DataView(si.buffer);
  const pid = v.getInt32(16, true);
  if (pid === 0) return undefined; // WNOHANG and still running
  return { code: v.getInt32(8, true), status: v.getInt32(24, true) };
}

/** PIDFD_INFO_EXIT (kernel ≥ 6.15): the exit status of a reaped process, in wait(2) format. */
export function pidfdExitInfo(pidfd: number): number | undefined {
  const info = new BigUint64Array(8);
  info[0] = PIDFD_INFO_EXIT;
  if (lib.ioctl(pidfd, PIDFD_GET_INFO, info) !== 0) return undefined;
  if ((info[0]! & PIDFD_INFO_EXIT) === 0n) return undefined;
  return new DataView(info.buffer).getInt32(60, true);
}

/** Converts a wait(2)-format status (as in PIDFD_INFO_EXIT or /proc/PID/stat field 52) to an exit code. */
export function waitStatusToExitCode(ws: number): number {
  const sig = ws & 0x7f;
  return sig === 0 ? (ws >> 8) & 0xff : 128 + sig;
}

export function eventfd(): number {
  const fd = lib.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw new SyscallError("eventfd", errno());
  return fd;
}

/** Reads an eventfd counter (0 when nothing is pending). */
export function readEventfd(fd: number): bigint {
  const b = new BigUint64Array(1);
  return lib.read(fd, b, 8) === 8n ? b[0]! : 0n;
}

/**
 * read(2) on a non-blocking fd: the bytes read (0 at end of file), or -1 when nothing is there
 * yet (EAGAIN) — without the exception node:fs throws for that, which an idle pipe polled by the
 * log pump would pay on every look.
 */
export function readNonBlocking(fd: number, buf: Uint8Array): number {
  const n = Number(lib.read(fd, buf, buf.length));
  if (n >= 0) return n;
  const e = errno();
  if (e === 11 /* EAGAIN */) return -1;
  throw new SyscallError("read", e);
}

export function writeEventfd(fd: number): void {
  lib.write(fd, new BigUint64Array([1n]), 8);
}

export function closeFd(fd: number): void {
  lib.close(fd);
}

export function mount(
  source: string,
  target: string,
  fstype: string | null,
  flags: number,
  data?: string,
): void {
  const r = lib.mount(
    cstr(source),
    cstr(target),
    fstype === null ? null : cstr(fstype),
    flags,
    data === undefined ? null : cstr(data),
  );
  if (r !== 0) throw new SyscallError(`mount ${fstype ?? "(flags)"} ${source} on ${target}`, errno());
}

/** mkfifo(3): a named pipe (a container's stdin, see container-stdin.ts). */
export function mkfifo(path: string, mode = 0o600): void {
  if (lib.mkfifo(cstr(path), mode) === 0) return;
  throw new SyscallError(`mkfifo ${path}`, errno());
}

/** Detaching unmount; ignores "not mounted" and "no such path". */
export function umount(target: string): void {
  if (lib.umount2(cstr(target), MNT_DETACH) === 0) return;
  const e = errno();
  if (e === 22 /* EINVAL: not a mount point */ || e === 2 /* ENOENT */) return;
  throw new SyscallError(`umount ${target}`, e);
}

export function nofileHardLimit(): number {
  const r = new BigUint64Array(2);
  if (lib.getrlimit(RLIMIT_NOFILE, r) !== 0) return 1024;
  const hard = r[1]!;
  return hard > 1n << 31n ? 1 << 30 : Number(hard);
}

/**
 * Makes fresh namespaces of `kinds` (UTS and/or IPC only: those are per-thread and allowed in a
 * multi-threaded process), runs `inside` in them on this thread, and always returns the thread
 * to the namespaces it had. `inside` must be synchronous: no other JS may run in between.
 */
export function inNewNamespaces(kinds: ("uts" | "ipc")[], inside: () => void): void {
  const saved: [number, number][] = [];
  let flags = 0;
  try {
    for (const k of kinds) {
      const fd = lib.open(cstr(`/proc/thread-self/ns/${k}`), O_RDONLY_CLOEXEC);
      if (fd < 0) throw new SyscallError(`open /proc/thread-self/ns/${k}`, errno());
      saved.push([fd, k === "uts" ? CLONE_NEWUTS : CLONE_NEWIPC]);
      flags |= saved.at(-1)![1];
    }
    if (lib.unshare(flags) !== 0) throw new SyscallError("unshare", errno());
    let failure: unknown;
    try {
      inside();
    } catch (e) {
      failure = e;
    }
    for (const [fd, type] of saved) {
      // Failing to return would leave the daemon's main thread in a pod's namespace.
      if (lib.setns(fd, type) !== 0) throw new SyscallError("setns (back to the daemon's own)", errno());
    }
    if (failure !== undefined) throw failure;
  } finally {
    for (const [fd] of saved) lib.close(fd);
  }
}

export function sethostname(name: string): void {
  const b = Buffer.from(name);
  if (lib.sethostname(b, b.length) !== 0) throw new SyscallError(`sethostname ${name}`, errno());
}
