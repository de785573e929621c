/**
 * Builds minik's test images offline from Debian's busybox-static: OCI (and Docker-typed) manifests,
 * configs and layers written by hand into a blob directory, plus `oci-archive` and `docker-archive`
 * tarballs for `minik image load`. Every digest is computed here, never hard-coded.
 *
 * Output (`<out>/build.json`): the blobs and manifests to push per repository, in push order.
 * Idempotent: a stamp over this script's sources and the busybox binary skips rebuilding.
 *
 *   bun scripts/test-images/build.ts [outDir]
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ArchiveInfo, dockerArchive, ociArchive } from "./archives.ts";
import {
  BlobWriter,
  type BuiltManifest,
  type Descriptor,
  hostArch,
  type Layer,
  layer,
  MT,
  manifest,
} from "./oci.ts";
import { makeTar, type TarEntry } from "./tar.ts";

export type { ArchiveInfo } from "./archives.ts";

export const DEFAULT_OUT = "/tmp/minik-test-images";
const BUSYBOX = "/usr/bin/busybox";

export interface PushManifest {
  repo: string;
  /** Tag, or undefined to push by digest only (index children). */
  tag?: string;
  mediaType: string;
  digest: string;
  blobs: string[];
}

export interface ImageInfo {
  /** `minik-test/busybox:1` (repository path on the registry, with tag). */
  name: string;
  repo: string;
  tag: string;
  mediaType: string;
  manifestDigest: string;
  /** Config digest of the image for this host (amd64 for indexes): Kubernetes' imageID. */
  configDigest: string;
  /** Uncompressed layer digests (rootfs.diff_ids) of the host image, bottom first. */
  diffIds: string[];
}

export interface BuildResult {
  stamp: string;
  blobDir: string;
  pushes: PushManifest[];
  images: Record<string, ImageInfo>;
  archives: { oci: ArchiveInfo; docker: ArchiveInfo };
}

function busyboxRootfs(): TarEntry[] {
  const applets = Bun.spawnSync([BUSYBOX, "--list"]).stdout.toString().split("\n").filter(Boolean).sort();
  const entries: TarEntry[] = [{ name: "./", type: "directory" }];
  for (const d of ["bin", "dev", "etc", "proc", "root", "run", "sys", "usr", "usr/bin", "var", "www"]) {
    entries.push({ name: `./${d}/`, type: "directory", mode: d === "root" ? 0o700 : 0o755 });
  }
  entries.push({ name: "./tmp/", type: "directory", mode: 0o1777 });
  entries.push({ name: "./bin/busybox", content: readFileSync(BUSYBOX), mode: 0o755 });
  for (const a of applets)
    if (a !== "busybox") entries.push({ name: `./bin/${a}`, type: "symlink", linkname: "busybox" });
  entries.push({ name: "./usr/bin/env", type: "symlink", linkname: "../../bin/busybox" });
  entries.push({
    name: "./etc/passwd",
    content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  });
  entries.push({ name: "./etc/group", content: "root:x:0:\nnogroup:x:65534:\n" });
  return entries;
}

function httpdLayer(version: number): TarEntry[] {
  const cgi = '#!/bin/sh\necho "Content-Type: text/plain"\necho ""\necho "host=$(hostname)"\n';
  return [
    { name: "www/", type: "directory" },
    { name: "www/index.html", content: `minik-test/httpd v${version}\n` },
    { name: "www/cgi-bin/", type: "directory" },
    { name: "www/cgi-bin/host", content: cgi, mode: 0o755 },
  ];
}

/** The whiteout test image: see check-layers for what the merged view must look like. */
function whiteoutLayers(): TarEntry[][] {
  const l1: TarEntry[] = [
    { name: "./", type: "directory" },
    { name: "./data/", type: "directory" },
    { name: "./data/keep.txt", content: "keep\n" },
    { name: "./data/remove-me.txt", content: "remove me\n" },
    { name: "./data/overwrite.txt", content: "old\n" },
    { name: "./data/link-to-keep.txt", type: "link", linkname: "./data/keep.txt" },
    { name: "./removed-dir/", type: "directory" },
    { name: "./removed-dir/file.txt", content: "gone\n" },
    { name: "./removed-dir/sub/", type: "directory" },
    { name: "./removed-dir/sub/deep.txt", content: "gone too\n" },
    { name: "./opaque/", type: "directory" },
    { name: "./opaque/old1.txt", content: "old1\n" },
    { name: "./opaque/sub/", type: "directory" },
    { name: "./opaque/sub/old2.txt", content: "old2\n" },
    { name: "./owned.txt", content: "owned\n", uid: 1234, gid: 5678, mode: 0o640 },
  ];
  // The opaque marker comes AFTER its sibling new.txt on purpose.
  const l2: TarEntry[] = [
    { name: "data/", type: "directory" },
    { name: "data/.wh.remove-me.txt", content: "" },
    { name: "data/overwrite.txt", content: "new\n" },
    { name: ".wh.removed-dir", content: "" },
    { name: "opaque/", type: "directory" },
    { name: "opaque/new.txt", content: "new\n" },
    { name: "opaque/.wh..wh..opq", content: "" },
  ];
  const check = `#!/bin/sh
# Prints LAYERS-OK when whiteouts, opaque dirs, hardlinks and ownership survived unpacking.
fail=0
bad() { echo "FAIL: $*"; fail=1; }
[ -e /data/remove-me.txt ] && bad "/data/remove-me.txt still present"
[ -e /data/.wh.remove-me.txt ] && bad "OCI whiteout file visible"
[ -e /removed-dir ] && bad "/removed-dir still present"
[ -e /opaque/old1.txt ] && bad "/opaque/old1.txt visible through opaque dir"
[ -e /opaque/sub ] && bad "/opaque/sub visible through opaque dir"
[ -e /opaque/.wh..wh..opq ] && bad "opaque marker visible"
[ "$(cat /opaque/new.txt 2>/dev/null)" = new ] || bad "/opaque/new.txt missing"
[ "$(cat /data/keep.txt 2>/dev/null)" = keep ] || bad "/data/keep.txt missing"
[ "$(cat /data/overwrite.txt 2>/dev/null)" = new ] || bad "/data/overwrite.txt not overwritten"
[ "$(cat /data/layer3.txt 2>/dev/null)" = layer3 ] || bad "/data/layer3.txt missing"
[ "$(stat -c %i /data/keep.txt)" = "$(stat -c %i /data/link-to-keep.txt)" ] && echo "hardlink preserved" || bad "hardlink not preserved"
[ "$(stat -c %u:%g:%a /owned.txt)" = "1234:5678:640" ] || bad "/owned.txt owner/mode $(stat -c %u:%g:%a /owned.txt)"
if [ $fail = 0 ]; then echo LAYERS-OK; else echo LAYERS-FAIL; exit 1; fi
`;
  const l3: TarEntry[] = [
    { name: "./data/", type: "directory" },
    { name: "./data/layer3.txt", content: "layer3\n" },
    { name: "./bin/", type: "directory" },
    { name: "./bin/check-layers", content: check, mode: 0o755 },
  ];
  return [l1, l2, l3];
}

async function inputsStamp(): Promise<string> {
  const h = createHash("sha256");
  for (const f of ["build.ts", "tar.ts", "oci.ts", "archives.ts"])
    h.update(readFileSync(join(import.meta.dir, f)));
  h.update(readFileSync(BUSYBOX));
  h.update(hostArch());
  return h.digest("hex").slice(0, 16);
}

export async function buildTestImages(out = DEFAULT_OUT): Promise<BuildResult> {
  const stamp = await inputsStamp();
  const resultPath = join(out, "build.json");
  if (existsSync(resultPath)) {
    const prev = JSON.parse(readFileSync(resultPath, "utf8")) as BuildResult;
    if (prev.stamp === stamp && existsSync(prev.archives.oci.path) && existsSync(prev.archives.docker.path))
      return prev;
  }
  // Stale blobs from other inputs would only waste space: start over.
  rmSync(join(out, "blobs"), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const blobs = new BlobWriter(join(out, "blobs"));
  const pushes: PushManifest[] = [];
  const images: Record<string, ImageInfo> = {};
  const arch = hostArch();

  const add = (repo: string, tag: string, m: BuiltManifest) => {
    pushes.push({ repo, tag, mediaType: m.mediaType, digest: m.digest, blobs: m.blobs });
    images[`${repo}:${tag}`] = {
      name: `${repo}:${tag}`,
      repo,
      tag,
      mediaType: m.mediaType,
      manifestDigest: m.digest,
      configDigest: m.configDigest,
      diffIds: m.diffIds,
    };
  };

  const base = layer(blobs, await makeTar(busyboxRootfs()));
  const www1 = layer(blobs, await makeTar(httpdLayer(1)));
  const www2 = layer(blobs, await makeTar(httpdLayer(2)));
  const httpdCmd = ["busybox", "httpd", "-f", "-p", "80", "-h", "/www"];

  add("minik-test/busybox", "1", manifest(blobs, { arch, layers: [base], cmd: ["sh"] }));
  add("minik-test/busybox", "1-docker", manifest(blobs, { arch, layers: [base], cmd: ["sh"] }, true));
  add(
    "minik-test/busybox",
    "1-zstd",
    manifest(blobs, { arch, layers: [layer(blobs, base.tar, "zstd")], cmd: ["sh"] }),
  );
  const httpd1 = manifest(blobs, { arch, layers: [base, www1], cmd: httpdCmd, exposedPorts: ["80/tcp"] });
  add("minik-test/httpd", "1", httpd1);
  const httpd2 = manifest(blobs, { arch, layers: [base, www2], cmd: httpdCmd, exposedPorts: ["80/tcp"] });
  add("minik-test/httpd", "2", httpd2);
  // The article's images: nginx:1.7.9, and 1.9.1 to roll forward to (the walkthrough).
  add("library/nginx", "1.7.9", httpd1);
  add("library/nginx", "1.9.1", httpd2);
  const wl = await Promise.all(whiteoutLayers().map(makeTar));
  add(
    "minik-test/layers",
    "1",
    manifest(blobs, { arch, layers: [base, ...wl.map((t) => layer(blobs, t))], cmd: ["check-layers"] }),
  );
  add(
    "minik-test/crasher",
    "1",
    manifest(blobs, { arch, layers: [base], cmd: ["sh", "-c", "echo crashing in 1s; sleep 1; exit 1"] }),
  );

  // multiarch: arm64 first on purpose, an attestation entry last. Each platform image prints the
  // architecture it was built for, so the test sees which entry was chosen.
  const platforms: [string, string | undefined][] = [
    ["arm64", "v8"],
    ["amd64", undefined],
  ];
  const archLayers = new Map<string, Layer>();
  for (const [a] of platforms) {
    archLayers.set(a, layer(blobs, await makeTar([{ name: "etc/minik-arch", content: `${a}\n` }])));
  }
  const archImage = (a: string, variant?: string, docker = false) =>
    manifest(
      blobs,
      { arch: a, variant, layers: [base, archLayers.get(a)!], cmd: ["cat", "/etc/minik-arch"] },
      docker,
    );
  for (const docker of [false, true]) {
    const repo = "minik-test/multiarch";
    const children = platforms.map(([a, v]) => ({ a, v, m: archImage(a, v, docker) }));
    const entries: Descriptor[] = children.map(({ a, v, m }) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      platform: { os: "linux", architecture: a, ...(v ? { variant: v } : {}) },
    }));
    for (const c of children)
      pushes.push({ repo, mediaType: c.m.mediaType, digest: c.m.digest, blobs: c.m.blobs });
    if (!docker) {
      const statement = blobs.put(
        JSON.stringify({ _type: "https://in-toto.io/Statement/v0.1", subject: [] }),
      );
      const attCfg = blobs.put("{}");
      const att = blobs.json({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, ...attCfg },
        layers: [
          {
            mediaType: MT.inToto,
            ...statement,
            annotations: { "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" },
          },
        ],
      });
      pushes.push({
        repo,
        mediaType: MT.ociManifest,
        digest: att.digest,
        blobs: [attCfg.digest, statement.digest],
      });
      entries.push({
        mediaType: MT.ociManifest,
        digest: att.digest,
        size: att.size,
        platform: { os: "unknown", architecture: "unknown" },
        annotations: {
          "vnd.docker.reference.digest": children[1]?.m.digest ?? "",
          "vnd.docker.reference.type": "attestation-manifest",
        },
      });
    }
    const mediaType = docker ? MT.dockerList : MT.ociIndex;
    const index = blobs.json({ schemaVersion: 2, mediaType, manifests: entries });
    const tag = docker ? "1-docker" : "1";
    const host = children.find((c) => c.a === arch)?.m ?? children[1]!.m;
    pushes.push({ repo, tag, mediaType, digest: index.digest, blobs: [] });
    images[`${repo}:${tag}`] = {
      name: `${repo}:${tag}`,
      repo,
      tag,
      mediaType,
      manifestDigest: index.digest,
      configDigest: host.configDigest,
      diffIds: host.diffIds,
    };
  }

  const archives = {
    oci: await ociArchive(out, blobs, base, arch),
    docker: await dockerArchive(out, base, arch),
  };
  const result: BuildResult = { stamp, blobDir: blobs.dir, pushes, images, archives };
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  return result;
}

/** OCI image layout in a tar, gzip layers, named like containerd/buildah export it. */
if (import.meta.main) {
  const t0 = performance.now();
  const r = await buildTestImages(process.argv[2] ?? DEFAULT_OUT);
  console.log(
    `test images: ${Object.keys(r.images).length} tags in ${r.blobDir} (${Math.round(performance.now() - t0)} ms)`,
  );
}
