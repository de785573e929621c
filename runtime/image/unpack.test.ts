import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdCompressSync } from "node:zlib";
import { gzip, makeTar, type TarEntry } from "../../scripts/test-images/tar.ts";
import { host, skipUnless } from "../../test/support/env.ts";
import { sha256 } from "./registry-client.ts";
import { cleanPath, LayerError, unpackLayer } from "./unpack.ts";

const bases: string[] = [];
afterAll(() => {
  for (const b of bases) rmSync(b, { recursive: true, force: true });
});

/** A fresh `<base>/layer` to unpack into; `<base>/outside.txt` is what escapes would hit. */
function sandbox() {
  const base = mkdtempSync(join(tmpdir(), "minik-unpack-"));
  bases.push(base);
  const dest = join(base, "layer");
  mkdirSync(dest);
  writeFileSync(join(base, "outside.txt"), "untouched\n");
  return { base, dest };
}

async function* chunks(data: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function unpack(entries: TarEntry[], opts: { gz?: boolean; chown?: boolean } = {}) {
  const s = sandbox();
  const tar = await makeTar(entries);
  const data = opts.gz ? gzip(tar) : tar;
  const result = await unpackLayer(chunks(data), s.dest, {
    diffId: sha256(tar),
    digest: sha256(data),
    size: data.length,
    chown: opts.chown ?? false,
  });
  return { ...s, result };
}

async function unpackError(entries: TarEntry[]): Promise<Error> {
  const s = sandbox();
  try {
    await unpackLayer(chunks(await makeTar(entries)), s.dest, { chown: false });
  } catch (e) {
    expect(readFileSync(join(s.base, "outside.txt"), "utf8")).toBe("untouched\n");
    return e as Error;
  }
  throw new Error("expected unpack to fail");
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => [
      `${prefix}${e.name}`,
      ...(e.isDirectory() ? tree(join(dir, e.name), `${prefix}${e.name}/`) : []),
    ])
    .sort();
}

describe("unpack: names", () => {
  test("cleanPath strips ./ and /, and .. never climbs above the root", () => {
    expect(cleanPath("./a/b/")).toEqual(["a", "b"]);
    expect(cleanPath("/etc/passwd")).toEqual(["etc", "passwd"]);
    expect(cleanPath("../../etc/passwd")).toEqual(["etc", "passwd"]);
    expect(cleanPath("a/../../b")).toEqual(["b"]);
    expect(cleanPath("./")).toEqual([]);
  });

  test("../ and absolute names land inside the layer", async () => {
    const { base, dest } = await unpack([
      { name: "../escape.txt", content: "x" },
      { name: "../../../../tmp/minik-escape-abs.txt", content: "x" },
      { name: "/abs.txt", content: "x" },
      { name: "a/../../outside.txt", content: "overwritten?" },
    ]);
    expect(tree(dest)).toEqual(["abs.txt", "escape.txt", "outside.txt", "tmp", "tmp/minik-escape-abs.txt"]);
    expect(existsSync(join(base, "escape.txt"))).toBe(false);
    expect(existsSync("/tmp/minik-escape-abs.txt")).toBe(false);
    expect(readFileSync(join(base, "outside.txt"), "utf8")).toBe("untouched\n");
  });

  test("writes through a symlink stay inside the layer (absolute and relative links)", async () => {
    const s = sandbox();
    const { dest } = await unpack([
      { name: "abs", type: "symlink", linkname: s.base },
      { name: "abs/outside.txt", content: "pwned" },
      { name: "rel", type: "symlink", linkname: "../../.." },
      { name: "rel/pwned2.txt", content: "pwned" },
      { name: "root", type: "symlink", linkname: "/" },
      { name: "root/pwned3.txt", content: "pwned" },
    ]);
    expect(readFileSync(join(s.base, "outside.txt"), "utf8")).toBe("untouched\n");
    // The absolute link is followed as if the layer were `/`.
    expect(readFileSync(join(dest, s.base, "outside.txt"), "utf8")).toBe("pwned");
    expect(readFileSync(join(dest, "pwned2.txt"), "utf8")).toBe("pwned");
    expect(readFileSync(join(dest, "pwned3.txt"), "utf8")).toBe("pwned");
    expect(readlinkSync(join(dest, "abs"))).toBe(s.base);
  });

  test("a file entry replaces a symlink instead of writing through it", async () => {
    const s = sandbox();
    const { dest } = await unpack([
      { name: "x", type: "symlink", linkname: join(s.base, "outside.txt") },
      { name: "x", content: "replaced\n" },
    ]);
    expect(lstatSync(join(dest, "x")).isFile()).toBe(true);
    expect(readFileSync(join(dest, "x"), "utf8")).toBe("replaced\n");
    expect(readFileSync(join(s.base, "outside.txt"), "utf8")).toBe("untouched\n");
  });

  test("hardlinks must point at a file in the same layer", async () => {
    expect(await unpackError([{ name: "h", type: "link", linkname: "../outside.txt" }])).toBeInstanceOf(
      LayerError,
    );
    const s = sandbox();
    const err = await unpackError([
      { name: "s", type: "symlink", linkname: s.base },
      { name: "h", type: "link", linkname: "s/outside.txt" },
    ]);
    expect(err.message).toContain("hardlink");
    const { dest } = await unpack([
      { name: "./a/f.txt", content: "same" },
      { name: "./a/g.txt", type: "link", linkname: "./a/f.txt" },
    ]);
    expect(lstatSync(join(dest, "a/g.txt")).ino).toBe(lstatSync(join(dest, "a/f.txt")).ino);
  });
});

describe("unpack: streams and digests", () => {
  test("gzip, zstd and plain tars all unpack; digests and sizes are reported", async () => {
    const entries = [{ name: "f", content: "data" }];
    const plain = await unpack(entries);
    const gz = await unpack(entries, { gz: true });
    expect(plain.result.diffId).toBe(gz.result.diffId);
    expect(gz.result.digest).not.toBe(gz.result.diffId);
    expect(readFileSync(join(gz.dest, "f"), "utf8")).toBe("data");
    const s = sandbox();
    const tar = await makeTar(entries);
    const zst = zstdCompressSync(tar);
    const r = await unpackLayer(chunks(zst), s.dest, {
      diffId: sha256(tar),
      digest: sha256(zst),
      chown: false,
    });
    expect(r.diffId).toBe(plain.result.diffId);
    expect(readFileSync(join(s.dest, "f"), "utf8")).toBe("data");
  });

  test("a wrong diff_id, digest, size or a corrupt gzip is a LayerError", async () => {
    const tar = await makeTar([{ name: "f", content: "data" }]);
    const gz = gzip(tar);
    const d = () => sandbox().dest;
    const fails = async (p: Promise<unknown>, text: string) => {
      const e = await p.then(
        () => undefined,
        (x) => x,
      );
      expect(e).toBeInstanceOf(LayerError);
      expect((e as Error).message).toContain(text);
    };
    await fails(unpackLayer(chunks(gz), d(), { diffId: sha256("other"), chown: false }), "diff_id mismatch");
    await fails(unpackLayer(chunks(gz), d(), { digest: sha256("other"), chown: false }), "digest mismatch");
    await fails(unpackLayer(chunks(gz), d(), { size: gz.length + 1, chown: false }), "size");
    await fails(unpackLayer(chunks(gz), d(), { size: gz.length - 1, chown: false }), "larger than");
    const corrupt = Buffer.from(gz);
    corrupt[20]! ^= 0xff;
    await fails(unpackLayer(chunks(corrupt), d(), { chown: false }), "");
  });
});

describe.skipIf(skipUnless(host.isRoot, "unpack as root", "needs root (chown, mknod, trusted xattrs)"))(
  "unpack: metadata and whiteouts",
  () => {
    test("modes, numeric owners, mtimes, symlinks, fifos; devices skipped; ./ root entry applied", async () => {
      const mtime = new Date("2020-02-02T02:02:02Z");
      const { dest, result } = await unpack(
        [
          { name: "./", type: "directory", mode: 0o750 },
          { name: "./bin/", type: "directory", mode: 0o711, uid: 7, gid: 8, mtime },
          { name: "./bin/tool", content: "#!/bin/sh\n", mode: 0o4755, uid: 1000, gid: 1001, mtime },
          { name: "./bin/link", type: "symlink", linkname: "tool", uid: 5, gid: 6 },
          { name: "./pipe", type: "fifo", mode: 0o600 },
          { name: "./dev/sda", type: "character-device", devmajor: 8, devminor: 0 },
        ],
        { chown: true },
      );
      const st = (p: string) => lstatSync(join(dest, p));
      expect(st("").mode & 0o7777).toBe(0o750);
      expect([st("bin").mode & 0o7777, st("bin").uid, st("bin").gid, st("bin").mtime.getTime()]).toEqual([
        0o711,
        7,
        8,
        mtime.getTime(),
      ]);
      expect([st("bin/tool").mode & 0o7777, st("bin/tool").uid, st("bin/tool").gid]).toEqual([
        0o4755, 1000, 1001,
      ]);
      expect(st("bin/tool").mtime.getTime()).toBe(mtime.getTime());
      expect([st("bin/link").isSymbolicLink(), st("bin/link").uid, st("bin/link").gid]).toEqual([true, 5, 6]);
      expect(st("pipe").isFIFO()).toBe(true);
      expect(existsSync(join(dest, "dev/sda"))).toBe(false);
      expect(result.skipped.join()).toContain("dev/sda");
    });

    test("PAX xattrs: user.* applied, trusted.* never (a layer cannot forge overlay metadata)", async () => {
      const { dest, result } = await unpack(
        [
          {
            name: "f",
            content: "x",
            pax: { "SCHILY.xattr.user.minik": "yes", "SCHILY.xattr.trusted.overlay.opaque": "y" },
          },
        ],
        { chown: true },
      );
      const get = (name: string) =>
        execFileSync("getfattr", ["--absolute-names", "--only-values", "-n", name, join(dest, "f")], {
          stdio: ["ignore", "pipe", "ignore"],
        }).toString();
      expect(get("user.minik")).toBe("yes");
      expect(() => get("trusted.overlay.opaque")).toThrow();
      expect(result.skipped.join()).toContain("trusted.overlay.opaque");
    });

    test("OCI whiteouts become overlay whiteouts; an opaque marker after its siblings keeps them", async () => {
      const { dest } = await unpack(
        [
          { name: "dir/", type: "directory" },
          { name: "dir/.wh.gone.txt", content: "" },
          { name: ".wh.gone-dir", content: "" },
          { name: "opq/", type: "directory" },
          { name: "opq/new.txt", content: "new" },
          { name: "opq/.wh..wh..opq", content: "" },
          { name: ".wh..wh.plnk/", type: "directory" },
        ],
        { chown: true },
      );
      expect(tree(dest)).toEqual(["dir", "dir/gone.txt", "gone-dir", "opq", "opq/new.txt"]);
      for (const w of ["dir/gone.txt", "gone-dir"]) {
        const st = lstatSync(join(dest, w));
        expect([st.isCharacterDevice(), st.rdev]).toEqual([true, 0]);
      }
      const xattr = execFileSync("getfattr", [
        "--absolute-names",
        "--only-values",
        "-n",
        "trusted.overlay.opaque",
        join(dest, "opq"),
      ]).toString();
      expect(xattr).toBe("y");
    });
  },
);
