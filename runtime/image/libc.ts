/**
 * The two syscalls layer unpacking needs that node:fs lacks: mknod (overlay whiteouts are 0/0
 * character devices; fifos) and lsetxattr (overlay opaque directories). bun:ffi into libc, loaded
 * lazily; when libc cannot be opened we fall back to spawning mknod/setfattr (only when a whiteout
 * actually occurs).
 */
import { dlopen, read } from "bun:ffi";

export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

type Libc = {
  mknod(path: Buffer, mode: number, dev: bigint): number;
  lsetxattr(path: Buffer, name: Buffer, value: Buffer, size: bigint, flags: number): number;
  errno(): number;
};

let libc: Libc | null | undefined;

function open(): Libc | null {
  if (libc !== undefined) return libc;
  for (const name of ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      const lib = dlopen(name, {
        mknod: { args: ["ptr", "u32", "u64"], returns: "i32" },
        lsetxattr: { args: ["ptr", "ptr", "ptr", "u64", "i32"], returns: "i32" },
        __errno_location: { args: [], returns: "ptr" },
      });
      const s = lib.symbols;
      libc = {
        mknod: (p, m, d) => s.mknod(p, m, d) as number,
        lsetxattr: (p, n, v, size, f) => s.lsetxattr(p, n, v, size, f) as number,
        errno: () => read.i32(s.__errno_location()!, 0),
      };
      return libc;
    } catch {}
  }
  libc = null;
  return null;
}

const cstr = (s: string) => Buffer.from(`${s}\0`);

function fail(call: string, path: string, errno: number): never {
  const e = new Error(`${call} ${path}: errno ${errno}`) as NodeJS.ErrnoException;
  e.errno = errno;
  e.code = errno === 1 ? "EPERM" : errno === 17 ? "EEXIST" : errno === 95 ? "ENOTSUP" : undefined;
  throw e;
}

function spawnOrThrow(cmd: string[]) {
  const p = Bun.spawnSync(cmd, { stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString().trim()}`);
}

/** mknod(2): `mode` includes the file type (S_IFCHR, S_IFIFO). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  const c = open();
  if (!c) {
    const type =
      (mode & S_IFIFO) === S_IFIFO && (mode & S_IFCHR) === 0 ? ["p"] : ["c", String(major), String(minor)];
    spawnOrThrow(["mknod", "-m", (mode & 0o7777).toString(8), path, ...type]);
    return;
  }
  // Linux new_encode_dev for small numbers: (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)
  const dev = BigInt((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12));
  if (c.mknod(cstr(path), mode, dev) !== 0) fail("mknod", path, c.errno());
}

/** lsetxattr(2) without following a final symlink. */
export function lsetxattr(path: string, name: string, value: string | Uint8Array): void {
  const c = open();
  const v = Buffer.from(value);
  if (!c) {
    spawnOrThrow(["setfattr", "-h", "-n", name, "-v", `0x${v.toString("hex")}`, path]);
    return;
  }
  if (c.lsetxattr(cstr(path), cstr(name), v, BigInt(v.length), 0) !== 0) fail("lsetxattr", path, c.errno());
}
