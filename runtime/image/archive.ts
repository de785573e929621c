/**
 * Reads `oci-archive` (OCI image layout in a tar) and `docker-archive` (`docker save`) tarballs,
 * gzip-compressed or not, into what the image store needs to import them. The archive is unpacked
 * into a work dir with the same safe unpacker as layers, and every file is looked up inside it.
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { choosePlatform } from "./platform.ts";
import { parseImageReference } from "./reference.ts";
import { type Descriptor, sha256 } from "./registry-client.ts";
import { cleanPath, resolveInRoot, unpackLayer } from "./unpack.ts";

export interface ArchiveLayer {
  open(): AsyncIterable<Uint8Array>;
  /** Digest and size of the stored blob, when the archive records them (OCI). */
  digest?: string;
  size?: number;
}

export interface ArchiveImage {
  /** Normalised names; empty when the archive names none. */
  names: string[];
  configDigest: string;
  config: Uint8Array;
  manifestDigest?: string;
  /** Manifest (and index) blobs to keep. */
  manifests: [string, Uint8Array][];
  diffIds: string[];
  layers: ArchiveLayer[];
}

class ArchiveError extends Error {}

export async function readArchive(file: string, work: string): Promise<ArchiveImage[]> {
  await unpackLayer(createReadStream(file), work, { chown: false });
  const path = (name: string) => {
    const p = resolveInRoot(work, cleanPath(name), false);
    if (!p || !existsSync(p)) throw new ArchiveError(`archive has no ${name}`);
    return p;
  };
  const has = (name: string) => resolveInRoot(work, cleanPath(name), false) !== undefined;
  const readJson = <T>(name: string): T => {
    try {
      return JSON.parse(readFileSync(path(name), "utf8")) as T;
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      throw new ArchiveError(`${name} is not valid JSON`);
    }
  };
  if (has("index.json")) {
    const index = readJson<{ manifests?: Descriptor[] }>("index.json");
    const named = (index.manifests ?? []).some((d) => d.annotations?.["io.containerd.image.name"]);
    if (named || !has("manifest.json")) return readOciLayout(index.manifests ?? [], path);
  }
  if (has("manifest.json")) return readDockerArchive(readJson("manifest.json"), path);
  throw new ArchiveError("neither an oci-archive (index.json) nor a docker-archive (manifest.json)");
}

function normalise(name: string): string | undefined {
  try {
    return parseImageReference(name).name;
  } catch {
    return undefined;
  }
}

function verifiedBlob(path: (n: string) => string, d: Descriptor): Uint8Array {
  const body = readFileSync(path(`blobs/${d.digest.replace(":", "/")}`));
  if (sha256(body) !== d.digest || (d.size !== undefined && body.length !== d.size)) {
    throw new ArchiveError(`blob ${d.digest} does not match its digest or size`);
  }
  return body;
}

function readOciLayout(entries: Descriptor[], path: (n: string) => string): ArchiveImage[] {
  const out: ArchiveImage[] = [];
  for (const entry of entries) {
    const manifests: [string, Uint8Array][] = [];
    let desc = entry;
    let body = verifiedBlob(path, desc);
    manifests.push([desc.digest, body]);
    let json = JSON.parse(new TextDecoder().decode(body)) as {
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    if (json.manifests) {
      const child = choosePlatform(json.manifests);
      if (!child) throw new ArchiveError(`index ${desc.digest} has no image for this platform`);
      desc = child;
      body = verifiedBlob(path, desc);
      manifests.push([desc.digest, body]);
      json = JSON.parse(new TextDecoder().decode(body));
    }
    if (!json.config) throw new ArchiveError(`manifest ${desc.digest} has no config`);
    const config = verifiedBlob(path, json.config);
    const diffIds =
      (JSON.parse(new TextDecoder().decode(config)) as { rootfs?: { diff_ids?: string[] } }).rootfs
        ?.diff_ids ?? [];
    const layers = (json.layers ?? []).map((l) => ({
      digest: l.digest,
      size: l.size,
      open: () => createReadStream(path(`blobs/${l.digest.replace(":", "/")}`)),
    }));
    if (layers.length !== diffIds.length)
      throw new ArchiveError(`manifest ${desc.digest}: layers and diff_ids differ in number`);
    const ann = entry.annotations ?? {};
    const refName = ann["org.opencontainers.image.ref.name"];
    // ref.name often holds only the tag; the full name is containerd's annotation.
    const candidates = [
      ann["io.containerd.image.name"],
      refName && /[/:]/.test(refName) ? refName : undefined,
    ];
    const names = candidates.map((n) => (n ? normalise(n) : undefined)).filter((n): n is string => !!n);
    out.push({
      names: [...new Set(names)].slice(0, 1),
      configDigest: json.config.digest,
      config,
      manifestDigest: entry.digest,
      manifests,
      diffIds,
      layers,
    });
  }
  return out;
}

function readDockerArchive(
  manifest: { Config?: string; RepoTags?: string[] | null; Layers?: string[] }[],
  path: (n: string) => string,
): ArchiveImage[] {
  if (!Array.isArray(manifest)) throw new ArchiveError("manifest.json is not a list");
  return manifest.map((m) => {
    if (!m.Config || !m.Layers) throw new ArchiveError("manifest.json entry without Config or Layers");
    const config = readFileSync(path(m.Config));
    const diffIds =
      (JSON.parse(config.toString()) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.Layers.length)
      throw new ArchiveError(`${m.Config}: layers and diff_ids differ in number`);
    const layers = m.Layers.map((l) => {
      const p = path(l);
      return { open: () => createReadStream(p), size: statSync(p).size };
    });
    const names = (m.RepoTags ?? []).map(normalise).filter((n): n is string => !!n);
    return { names, configDigest: sha256(config), config, manifests: [], diffIds, layers };
  });
}
