/**
 * Unpacks one image layer (a tar, gzip or not) into a directory ready to be an overlayfs lowerdir,
 * streaming, while verifying the compressed digest/size and the uncompressed diff_id.
 *
 * Safety: names are cleaned like containerd does (`../` and leading `/` cannot climb above the
 * layer root), every parent component is resolved *inside* the root (a symlink in the layer is
 * followed as if the root were `/`, never out of it), final components are never followed, and
 * hardlinks may only point at files already in this layer.
 *
 * OCI whiteouts become overlayfs ones: `.wh.<name>` → a 0/0 character device `<name>`, and
 * `.wh..wh..opq` → xattr `trusted.overlay.opaque=y` on its directory (wherever the marker appears
 * among its siblings: we never delete siblings, the xattr hides only lower layers).
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fchownSync,
  constants as fsc,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { extract, type Header as Headers } from "tar-stream";
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from "./libc.ts";

export interface UnpackOptions {
  /** Expected sha256 of the bytes as given (the manifest's layer digest) and their size. */
  digest?: string;
  size?: number;
  /** Expected sha256 of the uncompressed tar (config rootfs.diff_ids[i]). */
  diffId?: string;
  /** Called with the running count of input bytes read. */
  onBytes?: (done: number) => void;
  /** Apply numeric uid/gid from the tar (default: when running as root). */
  chown?: boolean;
}

export interface UnpackResult {
  digest: string;
  diffId: string;
  /** Input bytes (compressed size for gzip layers). */
  size: number;
  /** Uncompressed tar size. */
  tarSize: number;
  /** Entries not unpacked, with why (device nodes, unknown types). */
  skipped: string[];
}

export class LayerError extends Error {
  override name = "LayerError";
}

const sha256Hex = () => createHash("sha256");

/** Cleans a tar name into path components relative to the layer root; `..` never climbs above it. */
export function cleanPath(name: string): string[] {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") out.pop();
    else out.push(c);
  }
  return out;
}

/**
 * Resolves `parts` to a real path inside `root`, following symlinks as if `root` were `/`.
 * With `create`, `parts` are parent directories and missing ones are created; without it, the
 * path may end on a file, and undefined means it does not exist.
 */
export function resolveInRoot(root: string, parts: string[], create: boolean): string | undefined {
  let stack: string[] = [];
  const queue = [...parts];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      stack.pop();
      continue;
    }
    const p = join(root, ...stack, c);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) {
      if (!create) return undefined;
      mkdirSync(p, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      if (++links > 40) throw new LayerError(`too many levels of symbolic links at ${p}`);
      const target = readlinkSync(p);
      if (target.startsWith("/")) stack = [];
      queue.unshift(...target.split("/"));
      continue;
    } else if (!st.isDirectory()) {
      // Lookups (create=false) may end on a file; parents being created must be directories.
      if (!create && queue.length === 0) {
        stack.push(c);
        break;
      }
      if (!create) return undefined;
      // A file where a directory is needed: the later entry wins, as with tar --overwrite.
      unlinkSync(p);
      mkdirSync(p, { mode: 0o755 });
    }
    stack.push(c);
  }
  return join(root, ...stack);
}

/** Removes whatever is at `path` (never following a symlink), unless it is a directory and `keepDir`. */
function clear(path: string, keepDir: boolean): "dir" | "none" {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return "none";
  if (st.isDirectory()) {
    if (keepDir) return "dir";
    rmSync(path, { recursive: true, force: true });
  } else unlinkSync(path);
  return "none";
}

interface Meta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

function meta(h: Headers): Meta {
  return {
    mode: (h.mode ?? 0o644) & 0o7777,
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    mtime: h.mtime ?? new Date(0),
  };
}

class LayerWriter {
  readonly skipped: string[] = [];
  private readonly dirs: { path: string; m: Meta }[] = [];
  private readonly opaque = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly chown: boolean,
  ) {}

  private owner(path: string, m: Meta) {
    if (this.chown) lchownSync(path, m.uid, m.gid);
  }

  /**
   * PAX `SCHILY.xattr.*` records for files: only user.* and security.capability (never trusted.*,
   * which would let a layer forge overlay metadata). tar-stream decodes PAX values as UTF-8, so a
   * value that did not survive that is skipped rather than written wrong.
   */
  private xattrs(path: string, h: Headers) {
    const pax = (h as Headers & { pax?: Record<string, string> | null }).pax;
    if (!pax) return;
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith("SCHILY.xattr.")) continue;
      const name = key.slice("SCHILY.xattr.".length);
      if (!(name.startsWith("user.") || name === "security.capability")) {
        this.skipped.push(`${h.name}: xattr ${name} not applied`);
      } else if (value.includes("\uFFFD")) {
        this.skipped.push(`${h.name}: xattr ${name} has a binary value that could not be read`);
      } else {
        lsetxattr(path, name, Buffer.from(value, "utf8"));
      }
    }
  }

  async entry(h: Headers, body: AsyncIterable<Buffer>): Promise<void> {
    const parts = cleanPath(h.name);
    const type = h.type ?? "file";
    const m = meta(h);
    if (parts.length === 0) {
      // The `./` root entry: its metadata applies to the layer root.
      if (type === "directory") this.dirs.push({ path: this.root, m });
      return drain(body);
    }
    const base = parts.at(-1)!;
    const parent = resolveInRoot(this.root, parts.slice(0, -1), true)!;

    if (base === ".wh..wh..opq") {
      this.opaque.add(parent);
      return drain(body);
    }
    if (base.startsWith(".wh..wh.")) return drain(body); // aufs metadata (.wh..wh.plnk etc.)
    if (base.startsWith(".wh.")) {
      const target = join(parent, base.slice(4));
      clear(target, false);
      mknod(target, S_IFCHR | 0o000, 0, 0);
      return drain(body);
    }

    const path = join(parent, base);
    switch (type) {
      case "directory": {
        if (clear(path, true) === "none") mkdirSync(path, { mode: 0o755 });
        this.dirs.push({ path, m });
        return drain(body);
      }
      case "file":
      case "contiguous-file": {
        clear(path, false);
        const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off);
          }
          if (this.chown) fchownSync(fd, m.uid, m.gid);
          // After chown, which clears security.capability.
          this.xattrs(path, h);
          fchmodSync(fd, m.mode);
          futimesSync(fd, m.mtime, m.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case "symlink": {
        clear(path, false);
        symlinkSync(h.linkname ?? "", path);
        this.owner(path, m);
        lutimesSync(path, m.mtime, m.mtime);
        return drain(body);
      }
      case "link": {
        const tparts = cleanPath(h.linkname ?? "");
        const tparent = tparts.length > 0 ? resolveInRoot(this.root, tparts.slice(0, -1), false) : undefined;
        const target = tparent && join(tparent, tparts.at(-1)!);
        const st = target ? lstatSync(target, { throwIfNoEntry: false }) : undefined;
        if (!target || !st || st.isDirectory()) {
          throw new LayerError(`hardlink ${h.name} → ${h.linkname}: target is not a file in this layer`);
        }
        if (target !== path) {
          clear(path, false);
          linkSync(target, path);
        }
        return drain(body);
      }
      case "fifo": {
        clear(path, false);
        mknod(path, S_IFIFO | m.mode, 0, 0);
        this.owner(path, m);
        chmodSync(path, m.mode);
        utimesSync(path, m.mtime, m.mtime);
        return drain(body);
      }
      case "character-device":
        if ((h.devmajor ?? 0) === 0 && (h.devminor ?? 0) === 0) {
          // Already an overlayfs whiteout (layers exported from an overlay snapshotter).
          clear(path, false);
          mknod(path, S_IFCHR, 0, 0);
          return drain(body);
        }
        this.skipped.push(`${h.name}: device nodes are not unpacked (the runtime provides /dev)`);
        return drain(body);
      case "block-device":
        this.skipped.push(`${h.name}: device nodes are not unpacked (the runtime provides /dev)`);
        return drain(body);
      default:
        this.skipped.push(`${h.name}: unsupported tar entry type ${type}`);
        return drain(body);
    }
  }

  /** Directory metadata last (children change a directory's mtime), deepest first. */
  finish() {
    for (const dir of this.opaque) lsetxattr(dir, "trusted.overlay.opaque", "y");
    for (const { path, m } of this.dirs.reverse()) {
      this.owner(path, m);
      chmodSync(path, m.mode);
      utimesSync(path, m.mtime, m.mtime);
    }
  }
}

async function drain(body: AsyncIterable<Buffer>) {
  for await (const _ of body) {
  }
}

/** Hashes and counts what passes; past `limit` bytes it fails at once (a registry sending forever). */
function hashing(
  hash: ReturnType<typeof sha256Hex>,
  count: { n: number },
  onBytes?: (n: number) => void,
  limit?: number,
) {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      count.n += chunk.length;
      if (limit !== undefined && count.n > limit) {
        return cb(new LayerError(`layer is larger than the manifest's ${limit} bytes`));
      }
      onBytes?.(count.n);
      cb(null, chunk);
    },
  });
}

/** Reads the first chunk so the caller can tell gzip from a plain tar, then replays everything. */
async function peek(
  source: AsyncIterable<Uint8Array>,
): Promise<{ first: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  let head = await it.next();
  while (!head.done && head.value.length === 0) head = await it.next();
  const first = head.done ? new Uint8Array(0) : head.value;
  async function* all() {
    if (first.length > 0) yield first;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { first, all: all() };
}

/**
 * Unpacks `source` into `dest` (which must exist and be empty). Throws LayerError on a digest or
 * size mismatch, a corrupt stream or an unsafe entry; the caller discards `dest` then.
 */
export async function unpackLayer(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  dest: string,
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const inHash = sha256Hex();
  const tarHash = sha256Hex();
  const inCount = { n: 0 };
  const tarCount = { n: 0 };
  const { first, all } = await peek(source as AsyncIterable<Uint8Array>);
  // Media types lie (docker-archive layers are plain tars): look at the bytes (gzip, zstd or tar).
  const gzip = first[0] === 0x1f && first[1] === 0x8b;
  const zstd = first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd;
  const input = Readable.from(all, { objectMode: false });
  const x = extract();
  const writer = new LayerWriter(dest, opts.chown ?? process.getuid?.() === 0);
  const stages = [input, hashing(inHash, inCount, opts.onBytes, opts.size)] as NodeJS.ReadableStream[];
  if (gzip) stages.push(createGunzip());
  if (zstd) stages.push(createZstdDecompress());
  const piping = pipeline(...(stages as [Readable]), hashing(tarHash, tarCount), x);
  try {
    for await (const entry of x) {
      await writer.entry(entry.header, entry as AsyncIterable<Buffer>);
    }
    await piping;
  } catch (e) {
    x.destroy();
    input.destroy();
    const cause = await piping.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (e instanceof LayerError) throw e;
    if (cause instanceof LayerError) throw cause;
    throw new LayerError(`layer is corrupt or unreadable: ${(e as Error).message}`);
  }
  const digest = `sha256:${inHash.digest("hex")}`;
  const diffId = `sha256:${tarHash.digest("hex")}`;
  if (opts.size !== undefined && inCount.n !== opts.size) {
    throw new LayerError(
      `layer ${opts.digest ?? ""} size ${inCount.n} does not match the manifest's ${opts.size}`,
    );
  }
  if (opts.digest && digest !== opts.digest) {
    throw new LayerError(`layer digest mismatch: expected ${opts.digest}, got ${digest}`);
  }
  if (opts.diffId && diffId !== opts.diffId) {
    throw new LayerError(`layer diff_id mismatch: expected ${opts.diffId}, got ${diffId}`);
  }
  writer.finish();
  return { digest, diffId, size: inCount.n, tarSize: tarCount.n, skipped: writer.skipped };
}
