/**
 * Builds tar archives in memory from an explicit entry list, so test images and malicious test
 * tars control entry order, names (`./` prefixes, whiteouts, `../`) and link types exactly.
 * Deterministic: same entries, same bytes (fixed mtime, numeric owners).
 */
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export interface TarEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo" | "character-device";
  /** File content; ignored for other types. */
  content?: string | Uint8Array;
  /** Target of a symlink or hardlink. */
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  /** PAX records, e.g. `SCHILY.xattr.user.x`. */
  pax?: Record<string, string>;
}

export const FIXED_MTIME = new Date("2024-01-01T00:00:00Z");

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const e of entries) {
    const type = e.type ?? "file";
    const body = type === "file" ? Buffer.from(e.content ?? "") : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? FIXED_MTIME,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      ...(e.pax ? { pax: e.pax } : {}),
      size: body ? body.length : 0,
    };
    await new Promise<void>((resolve, reject) => {
      p.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip with a zero header mtime (node's default), so the compressed digest is stable too. */
export function gzip(data: Uint8Array): Buffer {
  return gzipSync(data, { level: 6 });
}
