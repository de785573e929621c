/**
 * Pushes built test images to a registry with plain HTTP (the distribution API: POST an upload,
 * PUT `?digest=`, PUT manifests), skipping what the registry already has. No skopeo needed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildResult } from "./build.ts";

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

async function check(r: Response, what: string): Promise<Response> {
  if (!r.ok) throw new Error(`push ${what}: HTTP ${r.status} ${await r.text()}`);
  return r;
}

export async function pushBlob(url: string, repo: string, digest: string, data: Uint8Array): Promise<void> {
  const head = await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
  if (head.ok) return;
  const start = await check(
    await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST" }),
    `${repo} upload`,
  );
  await start.arrayBuffer();
  const loc = new URL(start.headers.get("location") ?? "", url);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "content-length": String(data.length) },
    body: new Uint8Array(data),
  });
  await (await check(put, `${repo} blob ${digest}`)).arrayBuffer();
}

export async function pushManifest(
  url: string,
  repo: string,
  reference: string,
  mediaType: string,
  body: Uint8Array,
  digest: string,
): Promise<void> {
  const head = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: "HEAD",
    headers: { accept: ACCEPT },
  });
  if (head.ok && head.headers.get("docker-content-digest") === digest) return;
  const put = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    headers: { "content-type": mediaType },
    body: new Uint8Array(body),
  });
  await (await check(put, `${repo}:${reference}`)).arrayBuffer();
  const got = put.headers.get("docker-content-digest");
  if (got && got !== digest)
    throw new Error(`push ${repo}:${reference}: registry digest ${got} != ${digest}`);
}

export async function pushAll(url: string, build: BuildResult): Promise<void> {
  const read = (d: string) => readFileSync(join(build.blobDir, "sha256", d.slice(7)));
  for (const p of build.pushes) {
    await Promise.all(p.blobs.map((d) => pushBlob(url, p.repo, d, read(d))));
    await pushManifest(url, p.repo, p.tag ?? p.digest, p.mediaType, read(p.digest), p.digest);
  }
}
