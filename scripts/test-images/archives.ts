/**
 * The `minik image load` fixtures: an oci-archive (OCI layout in a tar, gzip layers, named by
 * containerd's annotation) and a docker-archive (`docker save` legacy layout, plain layer tars,
 * RepoTags, one layer.tar stored as a symlink).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BlobWriter, configJson, type Layer, layer, MT, manifest, sha256 } from "./oci.ts";
import { makeTar, type TarEntry } from "./tar.ts";

export interface ArchiveInfo {
  path: string;
  format: "oci-archive" | "docker-archive";
  /** Name the archive carries, normalised (`docker.io/minik-test/archive-oci:1`). */
  name: string;
  configDigest: string;
  diffIds: string[];
  /** Further images in the same archive (docker-archive: a second tag whose base layer.tar is a symlink). */
  more?: { name: string; configDigest: string }[];
}

export async function ociArchive(
  out: string,
  blobs: BlobWriter,
  base: Layer,
  arch: string,
): Promise<ArchiveInfo> {
  const extra = layer(blobs, await makeTar([{ name: "loaded.txt", content: "loaded from oci-archive\n" }]));
  const m = manifest(blobs, { arch, layers: [base, extra], cmd: ["cat", "/loaded.txt"] });
  const name = "docker.io/minik-test/archive-oci:1";
  const index = {
    schemaVersion: 2,
    mediaType: MT.ociIndex,
    manifests: [
      {
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": "1" },
      },
    ],
  };
  const entries: TarEntry[] = [
    { name: "oci-layout", content: JSON.stringify({ imageLayoutVersion: "1.0.0" }) },
    { name: "index.json", content: JSON.stringify(index) },
    { name: "blobs/", type: "directory" },
    { name: "blobs/sha256/", type: "directory" },
  ];
  for (const d of [m.digest, ...m.blobs]) {
    entries.push({
      name: `blobs/sha256/${d.slice(7)}`,
      content: readFileSync(join(blobs.dir, "sha256", d.slice(7))),
    });
  }
  const path = join(out, "archive-oci.tar");
  writeFileSync(path, await makeTar(entries));
  return { path, format: "oci-archive", name, configDigest: m.configDigest, diffIds: m.diffIds };
}

/** `docker save` legacy format: manifest.json + RepoTags, uncompressed `<id>/layer.tar`. */
export async function dockerArchive(out: string, base: Layer, arch: string): Promise<ArchiveInfo> {
  const extraTar = await makeTar([{ name: "loaded.txt", content: "loaded from docker-archive\n" }]);
  const layers = [base.tar, extraTar];
  const diffIds = layers.map((t) => sha256(t));
  const config = Buffer.from(
    JSON.stringify(
      configJson({
        arch,
        cmd: ["cat", "/loaded.txt"],
        layers: layers.map((tar, i) => ({ tar, gz: tar, diffId: diffIds[i]!, digest: "", size: 0 })),
      }),
    ),
  );
  const configDigest = sha256(config);
  const ids = diffIds.map((d) => d.slice(7));
  const entries: TarEntry[] = [{ name: `${configDigest.slice(7)}.json`, content: config }];
  layers.forEach((tar, i) => {
    entries.push({ name: `${ids[i]}/`, type: "directory" });
    entries.push({ name: `${ids[i]}/VERSION`, content: "1.0" });
    entries.push({ name: `${ids[i]}/json`, content: JSON.stringify({ id: ids[i] }) });
    entries.push({ name: `${ids[i]}/layer.tar`, content: tar });
  });
  // A second image sharing the base layer under another legacy id, stored as a symlink — what
  // `docker save` of two images does.
  const config2 = Buffer.from(
    JSON.stringify(
      configJson({
        arch,
        cmd: ["echo", "second image"],
        layers: [{ tar: base.tar, gz: base.tar, diffId: diffIds[0]!, digest: "", size: 0 }],
      }),
    ),
  );
  const config2Digest = sha256(config2);
  const id2 = sha256(`legacy-id-${ids[0]}`).slice(7);
  entries.push({ name: `${config2Digest.slice(7)}.json`, content: config2 });
  entries.push({ name: `${id2}/`, type: "directory" });
  entries.push({ name: `${id2}/layer.tar`, type: "symlink", linkname: `../${ids[0]}/layer.tar` });
  const repoTag = "minik-test/archive-docker:1";
  const repoTag2 = "minik-test/archive-docker:2";
  entries.push({
    name: "manifest.json",
    content: JSON.stringify([
      {
        Config: `${configDigest.slice(7)}.json`,
        RepoTags: [repoTag],
        Layers: ids.map((id) => `${id}/layer.tar`),
      },
      { Config: `${config2Digest.slice(7)}.json`, RepoTags: [repoTag2], Layers: [`${id2}/layer.tar`] },
    ]),
  });
  entries.push({
    name: "repositories",
    content: JSON.stringify({ "minik-test/archive-docker": { "1": ids.at(-1) } }),
  });
  const path = join(out, "archive-docker.tar");
  writeFileSync(path, await makeTar(entries));
  return {
    path,
    format: "docker-archive",
    name: `docker.io/${repoTag}`,
    configDigest,
    diffIds,
    more: [{ name: `docker.io/${repoTag2}`, configDigest: config2Digest }],
  };
}
