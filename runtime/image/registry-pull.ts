/**
 * One pull from a registry into the local store: manifest (through an index to this host's
 * platform), config, then the layers, three at a time, each streamed straight into its unpacker
 * with every digest checked. The record is written last, so a failed pull leaves no image.
 */
import type { PullProgress } from "../../core/seams/container-runtime.ts";
import type { ImageRecord, LocalStore } from "./local-store.ts";
import { choosePlatform, formatPlatform, hostPlatform } from "./platform.ts";
import type { ImageReference } from "./reference.ts";
import {
  type Descriptor,
  type Manifest,
  MEDIA_TYPES,
  type RegistryClient,
  RegistryError,
  readVerified,
} from "./registry-client.ts";
import { unpackLayer } from "./unpack.ts";

const LAYER_TYPES = new Set([
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);

const isIndex = (m: Manifest) =>
  m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList;

export interface PullDeps {
  client: RegistryClient;
  store: LocalStore;
  /** A layer download with no data for this long fails. */
  stallMs: number;
}

export async function pullFromRegistry(
  deps: PullDeps,
  p: ImageReference,
  onProgress?: (pr: PullProgress) => void,
): Promise<ImageRecord> {
  const { client, store, stallMs } = deps;
  const top = await client.getManifest(p, p.reference);
  let m: Manifest = top;
  if (isIndex(top)) {
    const want = hostPlatform();
    const entry = choosePlatform(top.json.manifests ?? [], want);
    if (!entry) {
      const have = (top.json.manifests ?? []).map((e) =>
        e.platform ? formatPlatform(e.platform as never) : "?",
      );
      throw new RegistryError(
        `no matching manifest for ${formatPlatform(want)} in the manifest list entries (has ${have.join(", ")})`,
        "NO_PLATFORM",
      );
    }
    m = await client.getManifest(p, entry.digest, top.endpoint);
    if (isIndex(m))
      throw new RegistryError(`nested image indexes are not supported (${entry.digest})`, "MANIFEST_INVALID");
  }
  const configDesc = m.json.config;
  if (!configDesc?.digest) throw new RegistryError(`manifest ${m.digest} has no config`, "MANIFEST_INVALID");
  const configBlob = await client.getBlob(p, configDesc.digest, top.endpoint, AbortSignal.timeout(stallMs));
  const configBytes = await readVerified(configBlob, configDesc, "config");
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as {
    os?: string;
    rootfs?: { diff_ids?: string[] };
  };
  if (config.os && config.os !== "linux")
    throw new RegistryError(`image is for ${config.os}, not linux`, "NO_PLATFORM");
  const layers = (m.json.layers ?? []).filter((l) => LAYER_TYPES.has(l.mediaType) || !l.mediaType);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new RegistryError(
      `config lists ${diffIds.length} diff_ids but the manifest has ${layers.length} layers`,
      "MANIFEST_INVALID",
    );
  }

  return store.pinned(diffIds, async () => {
    await eachLimited(layers, 3, async (l: Descriptor, i) => {
      const progress = (done: number) => onProgress?.({ image: p.name, item: l.digest, done, total: l.size });
      await store.ensureLayer(diffIds[i]!, (dest) =>
        downloadLayer(deps, p, top.endpoint, l, diffIds[i]!, dest, progress),
      );
      progress(l.size);
    });
    const manifests: [string, Uint8Array][] = [[top.digest, top.body]];
    if (m !== top) manifests.push([m.digest, m.body]);
    const record: ImageRecord = {
      name: p.name,
      id: configDesc.digest,
      digest: top.digest,
      size: layers.reduce((n, l) => n + l.size, 0),
      layers: diffIds,
      blobs: manifests.map(([d]) => d),
      createdAt: new Date().toISOString(),
    };
    store.commit(record, [[configDesc.digest, configBytes], ...manifests]);
    return record;
  });
}

async function downloadLayer(
  { client, stallMs }: PullDeps,
  p: ImageReference,
  endpoint: string,
  l: Descriptor,
  diffId: string,
  dest: string,
  progress: (done: number) => void,
): Promise<void> {
  const dog = watchdog(stallMs);
  try {
    const r = await client.getBlob(p, l.digest, endpoint, dog.signal);
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
}

/** An abort signal that fires when `kick()` was not called for `ms`. */
function watchdog(ms: number) {
  const ctl = new AbortController();
  let fired = false;
  const fire = () => {
    fired = true;
    ctl.abort(new Error(`no data for ${ms} ms`));
  };
  let timer = setTimeout(fire, ms);
  return {
    signal: ctl.signal,
    get fired() {
      return fired;
    },
    kick() {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
    },
    stop: () => clearTimeout(timer),
  };
}

/** Runs `fn` over `items` with at most `limit` at once. */
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
