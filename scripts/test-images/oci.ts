/**
 * Building blocks for hand-made OCI/Docker images: media types, a blob directory keyed by sha256,
 * layers (tar + gzip with both digests), configs and manifests. Digests are always computed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { FIXED_MTIME, gzip } from "./tar.ts";

export const MT = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  inToto: "application/vnd.in-toto+json",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** One manifest to PUT: children before their index, then the tag. */

export const sha256 = (data: Uint8Array | string) =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function hostArch(): string {
  return process.arch === "arm64" ? "arm64" : process.arch === "x64" ? "amd64" : process.arch;
}

export class BlobWriter {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, "sha256"), { recursive: true });
  }
  put(data: Uint8Array | string): { digest: string; size: number } {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const digest = sha256(bytes);
    const path = join(this.dir, "sha256", digest.slice(7));
    if (!existsSync(path)) writeFileSync(path, bytes);
    return { digest, size: bytes.length };
  }
  json(value: unknown): { bytes: Buffer; digest: string; size: number } {
    const bytes = Buffer.from(JSON.stringify(value));
    return { bytes, ...this.put(bytes) };
  }
}

export interface Layer {
  tar: Buffer;
  gz: Buffer;
  diffId: string;
  digest: string;
  size: number;
  /** Set for non-gzip layers (zstd). */
  mediaType?: string;
}

export function layer(blobs: BlobWriter, tar: Buffer, compression: "gzip" | "zstd" = "gzip"): Layer {
  const gz = compression === "zstd" ? zstd(tar) : gzip(tar);
  const { digest, size } = blobs.put(gz);
  return {
    tar,
    gz,
    diffId: sha256(tar),
    digest,
    size,
    ...(compression === "zstd" ? { mediaType: MT.ociLayerZstd } : {}),
  };
}

function zstd(data: Uint8Array): Buffer {
  return (zlib as unknown as { zstdCompressSync(d: Uint8Array): Buffer }).zstdCompressSync(data);
}

export const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ImageSpec {
  arch: string;
  variant?: string;
  layers: Layer[];
  cmd?: string[];
  entrypoint?: string[];
  exposedPorts?: string[];
  labels?: Record<string, string>;
  workingDir?: string;
}

export function configJson(spec: ImageSpec) {
  const config: Record<string, unknown> = { Env: [PATH_ENV] };
  if (spec.entrypoint) config.Entrypoint = spec.entrypoint;
  if (spec.cmd) config.Cmd = spec.cmd;
  if (spec.workingDir) config.WorkingDir = spec.workingDir;
  if (spec.exposedPorts) config.ExposedPorts = Object.fromEntries(spec.exposedPorts.map((p) => [p, {}]));
  if (spec.labels) config.Labels = spec.labels;
  return {
    created: FIXED_MTIME.toISOString(),
    architecture: spec.arch,
    ...(spec.variant ? { variant: spec.variant } : {}),
    os: "linux",
    config,
    rootfs: { type: "layers", diff_ids: spec.layers.map((l) => l.diffId) },
    history: [
      ...spec.layers.map(() => ({ created: FIXED_MTIME.toISOString(), created_by: "minik-test build.ts" })),
      { created: FIXED_MTIME.toISOString(), created_by: "CMD", empty_layer: true },
    ],
  };
}

export interface BuiltManifest {
  mediaType: string;
  digest: string;
  size: number;
  configDigest: string;
  blobs: string[];
  diffIds: string[];
}

export function manifest(blobs: BlobWriter, spec: ImageSpec, docker = false): BuiltManifest {
  const config = blobs.json(configJson(spec));
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const m = blobs.json({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: config.digest, size: config.size },
    layers: spec.layers.map((l) => ({
      mediaType: l.mediaType ?? (docker ? MT.dockerLayerGzip : MT.ociLayerGzip),
      digest: l.digest,
      size: l.size,
    })),
  });
  return {
    mediaType,
    digest: m.digest,
    size: m.size,
    configDigest: config.digest,
    blobs: [config.digest, ...spec.layers.map((l) => l.digest)],
    diffIds: spec.layers.map((l) => l.diffId),
  };
}
