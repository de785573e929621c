/**
 * The node's image store: pulls images from registries (or loads archives) into content-addressed
 * layer directories that crun's overlay mounts use as lowerdirs (layout: local-store.ts).
 *
 * Pull policies as the kubelet applies them; concurrent pulls of one image share one job, and
 * layers are shared between images. Errors a user can cause are RuntimeErrors with Kubernetes
 * reasons: ErrImagePull, ErrImageNeverPull, InvalidImageName, ImageInUse, ImageNotFound,
 * ImageLoadError.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import {
  type ImageRef,
  type PullPolicy,
  type PullProgress,
  RuntimeError,
} from "../../core/seams/container-runtime.ts";
import { readArchive } from "./archive.ts";
import { createLocalStore, type ImageRecord, toImageRef } from "./local-store.ts";
import { familiarName, parseImageReference } from "./reference.ts";
import type { RegistriesConfig } from "./registries-config.ts";
import { createRegistryClient } from "./registry-client.ts";
import { pullFromRegistry } from "./registry-pull.ts";
import { LayerError, unpackLayer } from "./unpack.ts";

export { layerDirName } from "./local-store.ts";

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

/** One entry of an image config's `history`: the build step, and whether it made a layer. */
export interface ImageHistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ResolvedImage {
  ref: ImageRef;
  config: ImageConfig;
  /** Absolute layer directories, bottom → top (reverse them for overlay's lowerdir). */
  layerDirs: string[];
  /** The layers' diffIDs, in the order of layerDirs. */
  diffIds: string[];
  /** The image config file's other fields (`inspect`, `history`). */
  meta: { created?: string; architecture?: string; os?: string; history: ImageHistoryEntry[] };
}

export interface PullOptions {
  policy?: PullPolicy;
  onProgress?: (p: PullProgress) => void;
}

export interface ImageStore {
  readonly root: string;
  pull(ref: string, options?: PullOptions): Promise<ImageRef>;
  /** The local image for a name, a digest reference or an image ID (`sha256:…` or a ≥12-hex prefix); undefined if absent. */
  resolve(ref: string): ResolvedImage | undefined;
  list(): ImageRef[];
  /** Removes an image name (or, by ID, all its names); deletes layers no image uses. Refuses while in use. */
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

export function createImageStore(opts: ImageStoreOptions): ImageStore {
  const store = createLocalStore(opts.root);
  const client = createRegistryClient({ config: opts.registries, fetch: opts.fetch });
  const stallMs = opts.stallTimeoutMs ?? 60_000;
  const pulls = new Map<string, Promise<ImageRef>>();

  const findRecord = (ref: string) => store.lookup(ref).record;

  async function pull(ref: string, options: PullOptions = {}): Promise<ImageRef> {
    const policy = options.policy ?? "IfNotPresent";
    const p = parseImageReference(ref);
    const present = findRecord(p.name);
    const usable = present && store.complete(present) ? present : undefined;
    if (policy === "Never") {
      if (usable) return toImageRef(usable);
      throw new RuntimeError(
        "ErrImageNeverPull",
        `Container image "${ref}" is not present with pull policy of Never: load it with \`minik image load\` or change imagePullPolicy`,
      );
    }
    if (policy === "IfNotPresent" && usable) return toImageRef(usable);
    // Always: a HEAD tells whether the tag still points at what we have.
    if (usable?.digest && !p.digest && (await client.headDigest(p, p.reference)) === usable.digest) {
      return toImageRef(usable);
    }
    if (usable && p.digest) return toImageRef(usable);
    const running = pulls.get(p.name);
    if (running) return running;
    const job = pullFromRegistry({ client, store, stallMs }, p, options.onProgress)
      .then(toImageRef)
      .catch((e) => {
        if (e instanceof RuntimeError) throw e;
        const why =
          e instanceof LayerError
            ? `layer rejected: ${e.message}`
            : e instanceof Error
              ? e.message
              : String(e);
        throw new RuntimeError("ErrImagePull", `failed to pull image "${ref}": ${why}`);
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
    if (!r || !store.complete(r)) return undefined;
    const raw = JSON.parse(readFileSync(store.blobPath(r.id), "utf8")) as {
      config?: ImageConfig;
      created?: string;
      architecture?: string;
      os?: string;
      history?: ImageHistoryEntry[];
    };
    return {
      ref: toImageRef(r),
      config: raw.config ?? {},
      layerDirs: r.layers.map(store.layerDir),
      diffIds: r.layers,
      meta: { created: raw.created, architecture: raw.architecture, os: raw.os, history: raw.history ?? [] },
    };
  }

  async function remove(ref: string, options: { inUse?: (imageId: string) => boolean } = {}) {
    const { record: r, byId } = store.lookup(ref);
    if (!r)
      throw new RuntimeError(
        "ImageNotFound",
        `image "${ref}" not found: nothing to remove (see \`minik image ls\`)`,
      );
    const sameId = store.records().filter((x) => x.id === r.id);
    const targets = byId ? sameId : [r];
    // Untagging one of several names of an image deletes nothing a container uses.
    const deletesImage = targets.length === sameId.length;
    if (deletesImage && options.inUse?.(r.id)) {
      throw new RuntimeError(
        "ImageInUse",
        `image "${familiarName(r.name)}" (${r.id.slice(0, 19)}) is in use by a container: delete the pods using it first`,
      );
    }
    for (const t of targets) store.removeRecord(t.name);
    if (deletesImage) store.collectGarbage();
  }

  async function load(source: string | ReadableStream<Uint8Array>): Promise<ImageRef[]> {
    if (typeof source !== "string") {
      const upload = store.tmpPath("upload");
      try {
        await Bun.write(upload, new Response(source));
        return await load(upload);
      } finally {
        rmSync(upload, { force: true });
      }
    }
    if (!existsSync(source) || !statSync(source).isFile()) {
      throw new RuntimeError("ImageLoadError", `image archive "${source}" not found or not a file`);
    }
    const work = store.tmpPath("load");
    mkdirSync(work);
    try {
      const refs: ImageRef[] = [];
      for (const img of await readArchive(source, work)) {
        await store.pinned(img.diffIds, async () => {
          for (const [i, l] of img.layers.entries()) {
            const diffId = img.diffIds[i]!;
            await store.ensureLayer(diffId, (dest) =>
              unpackLayer(l.open(), dest, { digest: l.digest, size: l.size, diffId }).then(() => {}),
            );
          }
          for (const name of img.names.length > 0 ? img.names : [img.configDigest]) {
            const record: ImageRecord = {
              name,
              id: img.configDigest,
              ...(img.manifestDigest ? { digest: img.manifestDigest } : {}),
              size: img.layers.reduce((n, l) => n + (l.size ?? 0), 0),
              layers: img.diffIds,
              blobs: img.manifests.map(([d]) => d),
              createdAt: new Date().toISOString(),
            };
            store.commit(record, [[img.configDigest, img.config], ...img.manifests]);
            refs.push(toImageRef(record));
          }
        });
      }
      return refs;
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError("ImageLoadError", `loading image archive "${source}": ${(e as Error).message}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  return {
    root: store.root,
    pull,
    resolve,
    list: () =>
      store
        .records()
        .filter(store.complete)
        .map(toImageRef)
        .sort((a, b) => a.name.localeCompare(b.name)),
    remove,
    load,
  };
}
