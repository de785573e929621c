/**
 * The node's image store: pulls images from registries (or loads archives) into content-addressed
 * layer directories that crun's overlay mounts use as lowerdirs.
 *
 *   <root>/l/<12 hex of diffID>/        one unpacked layer (short: overlay options fit one page)
 *   <root>/blobs/sha256/<hex>           manifests and configs
 *   <root>/images/<encoded name>.json   one record per image name → config digest + layers
 *   <root>/tmp/                          work dirs; renamed into place only when complete
 *
 * Layers are shared between images and deduplicated by diffID; concurrent pulls of the same image
 * or layer wait for the one in flight. Nothing half-written is ever visible: a layer directory or
 * image record appears by rename(2) after every digest has been checked.
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
import { type ImageRef, type PullPolicy, type PullProgress, RuntimeError } from "../container-runtime.ts";
import { readArchive } from "./archive.ts";
import { choosePlatform, formatPlatform, hostPlatform } from "./platform.ts";
import { familiarName, type ImageReference, isDigest, parseImageReference } from "./reference.ts";
import type { RegistriesConfig } from "./registries-config.ts";
import {
  createRegistryClient,
  type Descriptor,
  type Manifest,
  MEDIA_TYPES,
  RegistryError,
  readVerified,
  sha256,
} from "./registry-client.ts";
import { LayerError, unpackLayer } from "./unpack.ts";

/** The parts of an image config a container needs (OCI/Docker `config` object). */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, unknown>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface ResolvedImage {
  ref: ImageRef;
  config: ImageConfig;
  /** Absolute layer directories, bottom → top (reverse them for overlay's lowerdir). */
  layerDirs: string[];
}

export interface PullOptions {
  policy?: PullPolicy;
  onProgress?: (p: PullProgress) => void;
}

export interface ImageStore {
  readonly root: string;
  pull(ref: string, options?: PullOptions): Promise<ImageRef>;
  /** The local image for a name, a digest reference or an image ID (`sha256:…`); undefined if absent. */
  resolve(ref: string): ResolvedImage | undefined;
  list(): ImageRef[];
  /** Removes an image name; deletes its layers once no image uses them. Refuses while in use. */
  remove(ref: string, options?: { inUse?: (imageId: string) => boolean }): Promise<void>;
  /**
   * Loads an `oci-archive` or `docker-archive` tarball (gzip or not), from a path or a stream (an
   * upload); returns the images in it (unnamed ones are named by their ID).
   */
  load(file: string | ReadableStream<Uint8Array>): Promise<ImageRef[]>;
}

export interface ImageStoreOptions {
  root: string;
  registries?: RegistriesConfig;
  fetch?: typeof fetch;
  /** A layer download that delivers no byte for this long fails the pull (default 60 s). */
  stallTimeoutMs?: number;
}

interface ImageRecord {
  name: string;
  id: string;
  digest?: string;
  size: number;
  /** diffIDs, bottom first. */
  layers: string[];
  createdAt: string;
}

const LAYER_TYPES = new Set([
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);

const hex = (digest: string) => digest.slice(digest.indexOf(":") + 1);

function repoOf(name: string): string | undefined {
  try {
    const p = parseImageReference(name);
    return `${p.domain}/${p.path}`;
  } catch {
    return undefined;
  }
}

export function layerDirName(diffId: string): string {
  return hex(diffId).slice(0, 12);
}

function writeAtomic(path: string, data: string | Uint8Array) {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** An abort signal that fires when `kick()` was not called for `ms`. */
function watchdog(ms: number) {
  const ctl = new AbortController();
  const state = { fired: false };
  const fire = () => {
    state.fired = true;
    ctl.abort(new Error(`no data for ${ms} ms`));
  };
  let timer = setTimeout(fire, ms);
  return {
    signal: ctl.signal,
    get fired() {
      return state.fired;
    },
    kick() {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
    },
    stop: () => clearTimeout(timer),
  };
}

/** Limits how many layers download at once per pull. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function createImageStore(opts: ImageStoreOptions): ImageStore {
  const root = opts.root;
  const dirs = {
    layers: join(root, "l"),
    blobs: join(root, "blobs", "sha256"),
    images: join(root, "images"),
    tmp: join(root, "tmp"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  cleanStaleTmp(dirs.tmp);

  const client = createRegistryClient({ config: opts.registries, fetch: opts.fetch });
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  const pulls = new Map<string, Promise<ImageRef>>();
  const layerJobs = new Map<string, Promise<void>>();
  /** diffIDs some pull or load in this process is about to reference: GC must keep them. */
  const pinned = new Map<string, number>();

  const layerDir = (diffId: string) => join(dirs.layers, layerDirName(diffId));
  /** Names with a digest can pass the 255-byte file name limit once encoded: hash those. */
  const recordPath = (name: string) => {
    const encoded = encodeURIComponent(name);
    return join(dirs.images, `${encoded.length > 200 ? hex(sha256(name)) : encoded}.json`);
  };

  function readRecords(): ImageRecord[] {
    const out: ImageRecord[] = [];
    for (const f of readdirSync(dirs.images)) {
      if (!f.endsWith(".json")) continue;
      try {
        out.push(JSON.parse(readFileSync(join(dirs.images, f), "utf8")) as ImageRecord);
      } catch {}
    }
    return out;
  }

  function readRecord(name: string): ImageRecord | undefined {
    try {
      return JSON.parse(readFileSync(recordPath(name), "utf8")) as ImageRecord;
    } catch {
      return undefined;
    }
  }

  const toRef = (r: ImageRecord): ImageRef => ({
    name: r.name,
    id: r.id,
    ...(r.digest ? { digest: r.digest } : {}),
    size: r.size,
  });

  function complete(r: ImageRecord): boolean {
    return existsSync(join(dirs.blobs, hex(r.id))) && r.layers.every((d) => existsSync(layerDir(d)));
  }

  /** By name (normalised), by digest reference, or by image ID (`sha256:…`, 64 hex, or a unique ≥12-hex prefix). */
  function lookup(ref: string): { record?: ImageRecord; byId: boolean } {
    const id = /^[a-f0-9]{64}$/.test(ref) ? `sha256:${ref}` : ref;
    if (isDigest(id)) return { record: readRecords().find((r) => r.id === id), byId: true };
    let p: ImageReference | undefined;
    try {
      p = parseImageReference(ref);
    } catch (e) {
      if (!/^[a-f0-9]{12,63}$/.test(ref)) throw e;
    }
    const direct = p && readRecord(p.name);
    if (direct) return { record: direct, byId: false };
    if (p?.digest) {
      // Pulled by tag earlier, asked for by digest now.
      const repo = `${p.domain}/${p.path}`;
      return {
        record: readRecords().find((r) => r.digest === p.digest && repoOf(r.name) === repo),
        byId: false,
      };
    }
    if (/^[a-f0-9]{12,63}$/.test(ref)) {
      const ids = new Set(
        readRecords()
          .filter((r) => hex(r.id).startsWith(ref))
          .map((r) => r.id),
      );
      if (ids.size === 1) return { record: readRecords().find((r) => r.id === [...ids][0]), byId: true };
    }
    return { byId: false };
  }

  const findRecord = (ref: string) => lookup(ref).record;

  function pin(diffIds: string[], delta: 1 | -1) {
    for (const d of diffIds) {
      const n = (pinned.get(d) ?? 0) + delta;
      if (n <= 0) pinned.delete(d);
      else pinned.set(d, n);
    }
  }

  /**
   * Makes sure the layer directory for `diffId` exists, unpacking it with `fill` into a temp dir
   * that is renamed into place. One job per diffID at a time; another process racing us loses the
   * rename harmlessly.
   */
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

  function commit(record: ImageRecord, blobs: [string, Uint8Array][]) {
    for (const [digest, body] of blobs) {
      const p = join(dirs.blobs, hex(digest));
      if (!existsSync(p)) writeAtomic(p, body);
    }
    writeAtomic(recordPath(record.name), JSON.stringify(record));
  }

  async function pullFromRegistry(
    p: ImageReference,
    onProgress?: (pr: PullProgress) => void,
  ): Promise<ImageRef> {
    const top = await client.getManifest(p, p.reference);
    let m: Manifest = top;
    if (top.mediaType === MEDIA_TYPES.ociIndex || top.mediaType === MEDIA_TYPES.dockerList) {
      const want = hostPlatform();
      const entry = choosePlatform(top.json.manifests ?? [], want);
      if (!entry) {
        const have = (top.json.manifests ?? [])
          .map((e) => (e.platform ? formatPlatform(e.platform as never) : "?"))
          .join(", ");
        throw new RegistryError(
          `no matching manifest for ${formatPlatform(want)} in the manifest list entries (has ${have})`,
          "NO_PLATFORM",
        );
      }
      m = await client.getManifest(p, entry.digest, top.endpoint);
      if (m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList) {
        throw new RegistryError(
          `nested image indexes are not supported (${entry.digest})`,
          "MANIFEST_INVALID",
        );
      }
    }
    const configDesc = m.json.config;
    if (!configDesc?.digest)
      throw new RegistryError(`manifest ${m.digest} has no config`, "MANIFEST_INVALID");
    const configBytes = await readVerified(
      await client.getBlob(p, configDesc.digest, top.endpoint, AbortSignal.timeout(stallMs)),
      configDesc,
      "config",
    );
    const config = JSON.parse(new TextDecoder().decode(configBytes)) as {
      os?: string;
      rootfs?: { diff_ids?: string[] };
    };
    if (config.os && config.os !== "linux")
      throw new RegistryError(`image is for ${config.os}, not linux`, "NO_PLATFORM");
    const layers = (m.json.layers ?? []).filter((l) => LAYER_TYPES.has(l.mediaType) || !l.mediaType);
    for (const l of m.json.layers ?? []) {
      if (!layers.includes(l) && l.mediaType.includes("zstd")) {
        throw new RegistryError(`layer ${l.digest}: zstd-compressed layers are not supported`, "UNSUPPORTED");
      }
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== layers.length) {
      throw new RegistryError(
        `config lists ${diffIds.length} diff_ids but the manifest has ${layers.length} layers`,
        "MANIFEST_INVALID",
      );
    }
    pin(diffIds, 1);
    try {
      await eachLimited(layers, 3, async (l: Descriptor, i) => {
        const diffId = diffIds[i]!;
        const progress = (done: number) =>
          onProgress?.({ image: p.name, item: l.digest, done, total: l.size });
        await ensureLayer(diffId, async (dest) => {
          const dog = watchdog(stallMs);
          try {
            const r = await client.getBlob(p, l.digest, top.endpoint, dog.signal);
            if (!r.body) throw new RegistryError(`layer ${l.digest}: empty response`, "BLOB_UNKNOWN");
            const onBytes = (n: number) => {
              dog.kick();
              progress(n);
            };
            await unpackLayer(r.body, dest, { digest: l.digest, size: l.size, diffId, onBytes });
          } catch (e) {
            if (dog.fired) {
              throw new RegistryError(
                `layer ${l.digest}: download stalled (no data for ${stallMs / 1000} s)`,
                "STALLED",
              );
            }
            throw e;
          } finally {
            dog.stop();
          }
        });
        progress(l.size);
      });
      const record: ImageRecord = {
        name: p.name,
        id: configDesc.digest,
        digest: top.digest,
        size: layers.reduce((n, l) => n + l.size, 0),
        layers: diffIds,
        createdAt: new Date().toISOString(),
      };
      commit(record, [
        [configDesc.digest, configBytes],
        [top.digest, top.body],
        ...(m !== top ? ([[m.digest, m.body]] as [string, Uint8Array][]) : []),
      ]);
      return toRef(record);
    } finally {
      pin(diffIds, -1);
    }
  }

  function pullError(ref: string, e: unknown): RuntimeError {
    if (e instanceof RuntimeError) return e;
    const why = e instanceof Error ? e.message : String(e);
    return new RuntimeError("ErrImagePull", `failed to pull image "${ref}": ${why}`);
  }

  async function pull(ref: string, options: PullOptions = {}): Promise<ImageRef> {
    const policy = options.policy ?? "IfNotPresent";
    const p = parseImageReference(ref);
    const present = findRecord(p.name);
    const usable = present && complete(present) ? present : undefined;
    if (policy === "Never") {
      if (usable) return toRef(usable);
      throw new RuntimeError(
        "ErrImageNeverPull",
        `Container image "${ref}" is not present with pull policy of Never: load it with \`minik image load\` or change imagePullPolicy`,
      );
    }
    if (policy === "IfNotPresent" && usable) return toRef(usable);
    const running = pulls.get(p.name);
    if (running) return running;
    const job = pullFromRegistry(p, options.onProgress)
      .catch((e) => {
        throw pullError(ref, e instanceof LayerError ? new Error(`layer rejected: ${e.message}`) : e);
      })
      .finally(() => pulls.delete(p.name));
    pulls.set(p.name, job);
    return job;
  }

  function resolve(ref: string): ResolvedImage | undefined {
    let r: ImageRecord | undefined;
    try {
      r = findRecord(ref);
    } catch {
      return undefined;
    }
    if (!r || !complete(r)) return undefined;
    const raw = JSON.parse(readFileSync(join(dirs.blobs, hex(r.id)), "utf8")) as { config?: ImageConfig };
    return { ref: toRef(r), config: raw.config ?? {}, layerDirs: r.layers.map(layerDir) };
  }

  /** Deletes layer dirs and blobs no image record (or running pull) refers to. */
  function collectGarbage() {
    const records = readRecords();
    const keepLayers = new Set<string>([
      ...records.flatMap((r) => r.layers.map(layerDirName)),
      ...[...pinned.keys()].map(layerDirName),
    ]);
    for (const d of layerJobs.keys()) keepLayers.add(layerDirName(d));
    for (const dir of readdirSync(dirs.layers)) {
      if (!keepLayers.has(dir)) rmSync(join(dirs.layers, dir), { recursive: true, force: true });
    }
    const keepBlobs = new Set<string>();
    for (const r of records) {
      keepBlobs.add(hex(r.id));
      if (r.digest) keepBlobs.add(hex(r.digest));
    }
    for (const b of readdirSync(dirs.blobs)) {
      if (keepBlobs.has(b)) continue;
      // Index children are kept with their index: only drop blobs no record's manifest names.
      if (records.some((r) => r.digest && blobMentions(r.digest, b))) continue;
      rmSync(join(dirs.blobs, b), { force: true });
    }
  }

  function blobMentions(digest: string, child: string): boolean {
    try {
      return readFileSync(join(dirs.blobs, hex(digest)), "utf8").includes(child);
    } catch {
      return false;
    }
  }

  async function remove(ref: string, options: { inUse?: (imageId: string) => boolean } = {}) {
    const { record: r, byId } = lookup(ref);
    if (!r) {
      throw new RuntimeError(
        "ImageNotFound",
        `image "${ref}" not found: nothing to remove (see \`minik image ls\`)`,
      );
    }
    const sameId = readRecords().filter((x) => x.id === r.id);
    const targets = byId ? sameId : [r];
    // Untagging one of several names of an image deletes nothing a container uses.
    const deletesImage = targets.length === sameId.length;
    if (deletesImage && options.inUse?.(r.id)) {
      throw new RuntimeError(
        "ImageInUse",
        `image "${familiarName(r.name)}" (${r.id.slice(0, 19)}) is in use by a container: delete the pods using it first`,
      );
    }
    for (const t of targets) rmSync(recordPath(t.name), { force: true });
    if (deletesImage) collectGarbage();
  }

  async function load(source: string | ReadableStream<Uint8Array>): Promise<ImageRef[]> {
    if (typeof source !== "string") {
      const upload = join(dirs.tmp, `upload-${randomBytes(4).toString("hex")}.tar`);
      try {
        await Bun.write(upload, new Response(source));
        return await load(upload);
      } finally {
        rmSync(upload, { force: true });
      }
    }
    const file = source;
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new RuntimeError("ImageLoadError", `image archive "${file}" not found or not a file`);
    }
    const work = join(dirs.tmp, `load-${randomBytes(4).toString("hex")}`);
    mkdirSync(work);
    try {
      const images = await readArchive(file, work);
      const refs: ImageRef[] = [];
      for (const img of images) {
        pin(img.diffIds, 1);
        try {
          for (const [i, l] of img.layers.entries()) {
            await ensureLayer(img.diffIds[i]!, async (dest) => {
              await unpackLayer(l.open(), dest, { digest: l.digest, size: l.size, diffId: img.diffIds[i] });
            });
          }
          const names = img.names.length > 0 ? img.names : [img.configDigest];
          for (const name of names) {
            const record: ImageRecord = {
              name,
              id: img.configDigest,
              ...(img.manifestDigest ? { digest: img.manifestDigest } : {}),
              size: img.layers.reduce((n, l) => n + (l.size ?? 0), 0),
              layers: img.diffIds,
              createdAt: new Date().toISOString(),
            };
            commit(record, [[img.configDigest, img.config], ...img.manifests]);
            refs.push(toRef(record));
          }
        } finally {
          pin(img.diffIds, -1);
        }
      }
      return refs;
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError("ImageLoadError", `loading image archive "${file}": ${(e as Error).message}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  return {
    root,
    pull,
    resolve,
    list: () =>
      readRecords()
        .filter(complete)
        .map(toRef)
        .sort((a, b) => a.name.localeCompare(b.name)),
    remove,
    load,
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
