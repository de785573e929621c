/**
 * The image store's disk layout and its crash-safe writes:
 *
 *   <root>/l/<12 hex of diffID>/        one unpacked layer (short: overlay options fit one page)
 *   <root>/blobs/sha256/<hex>           manifests and configs
 *   <root>/images/<encoded name>.json   one record per image name → config digest + layers
 *   <root>/tmp/                          work dirs; renamed into place only when complete
 *
 * Layers are deduplicated by diffID and shared between images; one unpack per diffID runs at a
 * time in this process, and a racing process loses the final rename harmlessly. A layer dir or
 * record appears by rename(2) only when complete, so a crash never leaves half of either.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { ImageRef } from "../../core/seams/container-runtime.ts";
import { type ImageReference, isDigest, parseImageReference } from "./reference.ts";
import { sha256 } from "./registry-client.ts";

export interface ImageRecord {
  name: string;
  /** Config digest: the image ID. */
  id: string;
  /** Manifest (or index) digest the image was pulled by. */
  digest?: string;
  size: number;
  /** diffIDs, bottom first. */
  layers: string[];
  /** Every blob kept for this image (config, manifests, index). */
  blobs: string[];
  createdAt: string;
}

export const hex = (digest: string) => digest.slice(digest.indexOf(":") + 1);

export function layerDirName(diffId: string): string {
  return hex(diffId).slice(0, 12);
}

export const toImageRef = (r: ImageRecord): ImageRef => ({
  name: r.name,
  id: r.id,
  ...(r.digest ? { digest: r.digest } : {}),
  size: r.size,
});

function writeAtomic(path: string, data: string | Uint8Array) {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function repoOf(name: string): string | undefined {
  try {
    const p = parseImageReference(name);
    return `${p.domain}/${p.path}`;
  } catch {
    return undefined;
  }
}

const ID_PREFIX = /^[a-f0-9]{12,63}$/;

export type LocalStore = ReturnType<typeof createLocalStore>;

export function createLocalStore(root: string) {
  const dirs = {
    layers: join(root, "l"),
    blobs: join(root, "blobs", "sha256"),
    images: join(root, "images"),
    tmp: join(root, "tmp"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  cleanStaleTmp(dirs.tmp);

  const layerJobs = new Map<string, Promise<void>>();
  /** diffIDs a pull or load in this process is about to reference: GC must keep them. */
  const pins = new Map<string, number>();

  const layerDir = (diffId: string) => join(dirs.layers, layerDirName(diffId));
  /** Names with a digest can pass the 255-byte file name limit once encoded: hash those. */
  const recordPath = (name: string) => {
    const encoded = encodeURIComponent(name);
    return join(dirs.images, `${encoded.length > 200 ? hex(sha256(name)) : encoded}.json`);
  };
  const blobPath = (digest: string) => join(dirs.blobs, hex(digest));

  function records(): ImageRecord[] {
    const out: ImageRecord[] = [];
    for (const f of readdirSync(dirs.images)) {
      if (!f.endsWith(".json")) continue;
      try {
        out.push(JSON.parse(readFileSync(join(dirs.images, f), "utf8")) as ImageRecord);
      } catch {}
    }
    return out;
  }

  function record(name: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(recordPath(name), "utf8")) as ImageRecord;
    } catch {
      return undefined;
    }
  }

  /** By name (normalised), digest reference, or image ID (`sha256:…`, 64 hex, unique ≥12-hex prefix). */
  function lookup(ref: string): { record?: ImageRecord; byId: boolean } {
    const id = /^[a-f0-9]{64}$/.test(ref) ? `sha256:${ref}` : ref;
    if (isDigest(id)) return { record: records().find((r) => r.id === id), byId: true };
    let p: ImageReference | undefined;
    try {
      p = parseImageReference(ref);
    } catch (e) {
      if (!ID_PREFIX.test(ref)) throw e;
    }
    const direct = p && record(p.name);
    if (direct) return { record: direct, byId: false };
    if (p?.digest) {
      // Pulled by tag earlier, asked for by digest now.
      const repo = `${p.domain}/${p.path}`;
      return { record: records().find((r) => r.digest === p.digest && repoOf(r.name) === repo), byId: false };
    }
    if (ID_PREFIX.test(ref)) {
      const matches = records().filter((r) => hex(r.id).startsWith(ref));
      if (new Set(matches.map((r) => r.id)).size === 1) return { record: matches[0], byId: true };
    }
    return { byId: false };
  }

  function complete(r: ImageRecord): boolean {
    return existsSync(blobPath(r.id)) && r.layers.every((d) => existsSync(layerDir(d)));
  }

  /**
   * Writes blobs, then the record that names them (last, so a crash leaves no record without its
   * blobs). When the name pointed at another image no other name keeps, that image stays as a
   * dangling record named by its ID (Docker's `<none>`): a running container may still use its
   * layers, so only an explicit remove (with its in-use check) may delete them.
   */
  function commit(r: ImageRecord, blobs: [string, Uint8Array][]) {
    for (const [digest, body] of blobs) {
      if (!existsSync(blobPath(digest))) writeAtomic(blobPath(digest), body);
    }
    const old = record(r.name);
    if (old && old.id !== r.id && !records().some((x) => x.id === old.id && x.name !== old.name)) {
      writeAtomic(recordPath(old.id), JSON.stringify({ ...old, name: old.id }));
    }
    writeAtomic(recordPath(r.name), JSON.stringify(r));
  }

  /** Makes sure the layer dir for `diffId` exists, filled by `fill` in a temp dir renamed into place. */
  function ensureLayer(diffId: string, fill: (dest: string) => Promise<void>): Promise<void> {
    const final = layerDir(diffId);
    if (existsSync(final)) return Promise.resolve();
    const running = layerJobs.get(diffId);
    if (running) return running;
    const job = (async () => {
      const tmp = join(dirs.tmp, `layer-${layerDirName(diffId)}-${randomBytes(4).toString("hex")}`);
      mkdirSync(tmp, { mode: 0o755 });
      try {
        await fill(tmp);
        try {
          renameSync(tmp, final);
        } catch (e) {
          if (!existsSync(final)) throw e;
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    })().finally(() => layerJobs.delete(diffId));
    layerJobs.set(diffId, job);
    return job;
  }

  /** Runs `fn` with `diffIds` protected from garbage collection. */
  async function pinned<T>(diffIds: string[], fn: () => Promise<T>): Promise<T> {
    for (const d of diffIds) pins.set(d, (pins.get(d) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      for (const d of diffIds) {
        const n = (pins.get(d) ?? 1) - 1;
        if (n <= 0) pins.delete(d);
        else pins.set(d, n);
      }
    }
  }

  /** Deletes layer dirs and blobs that no record, pull in flight or load refers to. */
  function collectGarbage() {
    const all = records();
    const keepLayers = new Set(
      [...all.flatMap((r) => r.layers), ...pins.keys(), ...layerJobs.keys()].map(layerDirName),
    );
    for (const dir of readdirSync(dirs.layers)) {
      if (!keepLayers.has(dir)) rmSync(join(dirs.layers, dir), { recursive: true, force: true });
    }
    const keepBlobs = new Set(all.flatMap((r) => [r.id, ...(r.blobs ?? [])]).map(hex));
    for (const b of readdirSync(dirs.blobs))
      if (!keepBlobs.has(b)) rmSync(join(dirs.blobs, b), { force: true });
  }

  return {
    root,
    tmpDir: dirs.tmp,
    layerDir,
    blobPath,
    records,
    lookup,
    complete,
    commit,
    ensureLayer,
    pinned,
    collectGarbage,
    removeRecord: (name: string) => rmSync(recordPath(name), { force: true }),
    /** A fresh path under tmp/ for work that is deleted afterwards. */
    tmpPath: (prefix: string) => join(dirs.tmp, `${prefix}-${randomBytes(4).toString("hex")}`),
  };
}

/** Work dirs older than an hour are leftovers of a crash (a live pull renames its dir in seconds). */
function cleanStaleTmp(tmp: string) {
  const cutoff = Date.now() - 3600_000;
  for (const e of readdirSync(tmp)) {
    const p = join(tmp, e);
    try {
      if (statSync(p).mtimeMs < cutoff) rmSync(p, { recursive: true, force: true });
    } catch {}
  }
}
