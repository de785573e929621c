import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { gzip, makeTar } from "../../scripts/test-images/tar.ts";
import { host, skipUnless } from "../../test/support/env.ts";
import {
  testImageRef,
  testImages,
  testImagesMissing,
  testRegistriesYaml,
} from "../../test/support/registry.ts";
import { createImageStore, layerDirName } from "./image-store.ts";
import { loadRegistriesConfig, withMirrorFlags } from "./registries-config.ts";
import { sha256 } from "./registry-client.ts";

const env = testImages!;
const roots: string[] = [];
function newRoot(): string {
  const r = mkdtempSync(join(tmpdir(), "minik-images-"));
  roots.push(r);
  return r;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<RuntimeError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    return e as RuntimeError;
  }
  throw new Error("expected the promise to reject");
}

/** Counts requests per path so tests can see what a pull asked the registry. */
function countingFetch() {
  const calls: string[] = [];
  const f = ((input: string | URL | Request, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    calls.push(`${method} ${new URL(input instanceof Request ? input.url : input.toString()).pathname}`);
    return fetch(input, init);
  }) as typeof fetch;
  return { calls, fetch: f };
}

const hostArch = process.arch === "x64" ? "amd64" : process.arch;

describe.skipIf(skipUnless(!!testImages, "image store (registry)", testImagesMissing))(
  "image store: pulls",
  () => {
    test("pulls an OCI image by tag: ImageRef ids match the build, layers resolve bottom → top", async () => {
      const store = createImageStore({ root: newRoot() });
      const info = env.images["minik-test/httpd:1"]!;
      const ref = await store.pull(testImageRef("minik-test/httpd:1"));
      expect(ref).toMatchObject({
        name: testImageRef("minik-test/httpd:1"),
        id: info.configDigest,
        digest: info.manifestDigest,
      });
      expect(ref.size).toBeGreaterThan(100_000);
      const r = store.resolve(testImageRef("minik-test/httpd:1"))!;
      expect(r.config.Cmd).toEqual(["busybox", "httpd", "-f", "-p", "80", "-h", "/www"]);
      expect(r.config.ExposedPorts).toEqual({ "80/tcp": {} });
      expect(r.layerDirs.map((d) => d.split("/").at(-1))).toEqual(info.diffIds.map(layerDirName));
      expect(readFileSync(join(r.layerDirs[1]!, "www/index.html"), "utf8")).toBe("minik-test/httpd v1\n");
      expect(existsSync(join(r.layerDirs[0]!, "bin/busybox"))).toBe(true);
      // Resolvable by image ID too, and listed.
      expect(store.resolve(info.configDigest)?.ref.name).toBe(ref.name);
      expect(store.list().map((i) => i.name)).toEqual([ref.name]);
    });

    test("pulls Docker media types, and by digest", async () => {
      const store = createImageStore({ root: newRoot() });
      const docker = env.images["minik-test/busybox:1-docker"]!;
      expect(docker.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
      const a = await store.pull(testImageRef("minik-test/busybox:1-docker"));
      expect(a.id).toBe(docker.configDigest);
      const httpd2 = env.images["minik-test/httpd:2"]!;
      const byDigest = `${env.registries.plain.host}/minik-test/httpd@${httpd2.manifestDigest}`;
      const b = await store.pull(byDigest);
      expect(b).toMatchObject({ name: byDigest, id: httpd2.configDigest, digest: httpd2.manifestDigest });
      expect(readFileSync(join(store.resolve(byDigest)!.layerDirs[1]!, "www/index.html"), "utf8")).toBe(
        "minik-test/httpd v2\n",
      );
      // The busybox layer is shared, unpacked once.
      expect(store.resolve(byDigest)!.layerDirs[0]).toBe(store.resolve(a.name)!.layerDirs[0]!);
    });

    test("pulls zstd-compressed layers (same diffID, same layer dir as gzip)", async () => {
      const store = createImageStore({ root: newRoot() });
      const z = await store.pull(testImageRef("minik-test/busybox:1-zstd"));
      const g = await store.pull(testImageRef("minik-test/busybox:1"));
      expect(z.id).toBe(env.images["minik-test/busybox:1-zstd"]!.configDigest);
      expect(store.resolve(z.name)!.layerDirs).toEqual(store.resolve(g.name)!.layerDirs);
      expect(existsSync(join(store.resolve(z.name)!.layerDirs[0]!, "bin/busybox"))).toBe(true);
    });

    test.each(["minik-test/multiarch:1", "minik-test/multiarch:1-docker"])(
      "chooses the host platform from %s (arm64 listed first, attestation entry skipped)",
      async (name) => {
        const store = createImageStore({ root: newRoot() });
        const ref = await store.pull(testImageRef(name));
        expect(ref.id).toBe(env.images[name]!.configDigest);
        expect(ref.digest).toBe(env.images[name]!.manifestDigest);
        const top = store.resolve(ref.name)!.layerDirs.at(-1)!;
        expect(readFileSync(join(top, "etc/minik-arch"), "utf8").trim()).toBe(hostArch);
      },
    );

    test("a missing image, an unreachable registry and a bad name fail with Kubernetes reasons", async () => {
      const store = createImageStore({ root: newRoot() });
      const missing = await rejection(store.pull(`${env.registries.plain.host}/minik-test/nope:1`));
      expect(missing.reason).toBe("ErrImagePull");
      expect(missing.message).toContain(
        `failed to pull image "${env.registries.plain.host}/minik-test/nope:1"`,
      );
      expect(missing.message).toContain("MANIFEST_UNKNOWN");
      const gone = await rejection(store.pull("127.0.0.1:1/minik-test/busybox:1"));
      expect(gone.reason).toBe("ErrImagePull");
      expect(gone.message).toContain("unreachable");
      expect((await rejection(store.pull("Bad Name"))).reason).toBe("InvalidImageName");
      expect(store.list()).toEqual([]);
    });

    test("basic auth: no or wrong credentials fail, right ones pull", async () => {
      const { host: h, username, password } = env.registries.basic;
      const image = `${h}/minik-test/httpd:2`;
      const none = await rejection(createImageStore({ root: newRoot() }).pull(image));
      expect(none.message).toContain("authentication required");
      const wrong = createImageStore({
        root: newRoot(),
        registries: { configs: { [h]: { auth: { username, password: "nope" } } } },
      });
      expect((await rejection(wrong.pull(image))).message).toContain("authentication failed");
      const right = createImageStore({
        root: newRoot(),
        registries: { configs: { [h]: { auth: { username, password } } } },
      });
      expect((await right.pull(image)).id).toBe(env.images["minik-test/httpd:2"]!.configDigest);
    });

    test.skipIf(!env?.registries.token)(
      "bearer token auth: token per repository, wrong password fails",
      async () => {
        const t = env.registries.token!;
        const wrong = createImageStore({
          root: newRoot(),
          registries: { configs: { [t.host]: { auth: { username: t.username, password: "x" } } } },
        });
        const err = await rejection(wrong.pull(`${t.host}/minik-test/multiarch:1`));
        expect(err.message).toContain("authentication failed");
        const counting = countingFetch();
        const store = createImageStore({
          root: newRoot(),
          fetch: counting.fetch,
          registries: { configs: { [t.host]: { auth: { username: t.username, password: t.password } } } },
        });
        expect((await store.pull(`${t.host}/minik-test/multiarch:1`)).id).toBe(
          env.images["minik-test/multiarch:1"]!.configDigest,
        );
        // A token for one repository does not open another: a second scope is requested.
        expect((await store.pull(`${t.host}/minik-test/busybox:1`)).id).toBe(
          env.images["minik-test/busybox:1"]!.configDigest,
        );
        expect(counting.calls.filter((c) => c === "GET /token").length).toBe(2);
      },
    );

    test("a docker.io mirror serves the issue's nginx:1.7.9 (registries.yaml and --registry-mirror)", async () => {
      const plain = env.registries.plain.url;
      const httpd1 = env.images["minik-test/httpd:1"]!;
      const fromYaml = createImageStore({
        root: newRoot(),
        registries: { mirrors: { "docker.io": { endpoint: [plain] } } },
      });
      const ref = await fromYaml.pull("nginx:1.7.9");
      expect(ref).toMatchObject({ name: "docker.io/library/nginx:1.7.9", id: httpd1.configDigest });
      const fromFlag = createImageStore({
        root: newRoot(),
        registries: withMirrorFlags({}, [`docker.io=${plain}`]),
      });
      expect((await fromFlag.pull("docker.io/library/nginx:1.7.9")).id).toBe(httpd1.configDigest);
      // The registries.yaml the e2e tests write into minik's data dir.
      const file = join(newRoot(), "registries.yaml");
      writeFileSync(file, testRegistriesYaml());
      const fromFile = createImageStore({ root: newRoot(), registries: loadRegistriesConfig(file) });
      expect((await fromFile.pull("nginx:1.7.9")).id).toBe(httpd1.configDigest);
      const basic = `${env.registries.basic.host}/minik-test/httpd:2`;
      expect((await fromFile.pull(basic)).id).toBe(env.images["minik-test/httpd:2"]!.configDigest);
    });

    test("concurrent pulls of one image share the work; two stores on one root both succeed", async () => {
      const root = newRoot();
      const counting = countingFetch();
      const a = createImageStore({ root, fetch: counting.fetch });
      const b = createImageStore({ root });
      const image = testImageRef("minik-test/layers:1");
      const refs = await Promise.all([
        a.pull(image),
        a.pull(image),
        a.pull(image),
        b.pull(image),
        b.pull(image),
      ]);
      expect(new Set(refs.map((r) => r.id)).size).toBe(1);
      // Store a fetched each blob at most once despite three concurrent pulls (store b may have
      // unpacked some layers first), and one manifest.
      const blobGets = counting.calls.filter((c) => c.startsWith("GET") && c.includes("/blobs/"));
      expect(blobGets.length).toBeGreaterThan(0);
      expect(new Set(blobGets).size).toBe(blobGets.length);
      expect(counting.calls.filter((c) => c.includes("/manifests/"))).toEqual([
        "GET /v2/minik-test/layers/manifests/1",
      ]);
      expect(readdirSync(join(root, "l")).sort()).toEqual(
        env.images["minik-test/layers:1"]!.diffIds.map(layerDirName).sort(),
      );
      expect(readdirSync(join(root, "tmp"))).toEqual([]);
    });

    test("pull policies: Never, IfNotPresent, Always", async () => {
      const counting = countingFetch();
      const store = createImageStore({ root: newRoot(), fetch: counting.fetch });
      const image = testImageRef("minik-test/crasher:1");
      const never = await rejection(store.pull(image, { policy: "Never" }));
      expect(never.reason).toBe("ErrImageNeverPull");
      expect(counting.calls).toEqual([]);
      await store.pull(image, { policy: "IfNotPresent" });
      const afterFirst = counting.calls.length;
      expect(afterFirst).toBeGreaterThan(0);
      await store.pull(image, { policy: "IfNotPresent" });
      expect((await store.pull(image, { policy: "Never" })).id).toBe(
        env.images["minik-test/crasher:1"]!.configDigest,
      );
      expect(counting.calls.length).toBe(afterFirst);
      // Always, tag unchanged: one HEAD, nothing downloaded.
      await store.pull(image, { policy: "Always" });
      expect(counting.calls.slice(afterFirst)).toEqual(["HEAD /v2/minik-test/crasher/manifests/1"]);
    });

    test("pull policy Always follows a tag that moved; IfNotPresent keeps the old image", async () => {
      const { url, host: h } = env.registries.plain;
      const tag = `moving-${Date.now().toString(36)}`;
      const accept = "application/vnd.oci.image.manifest.v1+json";
      const retag = async (from: string) => {
        const body = await (
          await fetch(`${url}/v2/minik-test/httpd/manifests/${from}`, { headers: { accept } })
        ).text();
        const put = await fetch(`${url}/v2/minik-test/httpd/manifests/${tag}`, {
          method: "PUT",
          headers: { "content-type": accept },
          body,
        });
        expect(put.status).toBe(201);
      };
      const store = createImageStore({ root: newRoot() });
      const image = `${h}/minik-test/httpd:${tag}`;
      await retag("1");
      expect((await store.pull(image, { policy: "Always" })).id).toBe(
        env.images["minik-test/httpd:1"]!.configDigest,
      );
      await retag("2");
      expect((await store.pull(image, { policy: "IfNotPresent" })).id).toBe(
        env.images["minik-test/httpd:1"]!.configDigest,
      );
      const progress: number[] = [];
      const moved = await store.pull(image, { policy: "Always", onProgress: (p) => progress.push(p.done) });
      expect(moved).toMatchObject({
        id: env.images["minik-test/httpd:2"]!.configDigest,
        digest: env.images["minik-test/httpd:2"]!.manifestDigest,
      });
      expect(progress.length).toBeGreaterThan(0);
      // The old image stays, dangling (named by its ID), until removed: a container may use it.
      const v1 = env.images["minik-test/httpd:1"]!.configDigest;
      expect(store.list().map((i) => [i.name, i.id])).toEqual([
        [image, env.images["minik-test/httpd:2"]!.configDigest],
        [v1, v1],
      ]);
      expect(store.resolve(v1)?.layerDirs.every(existsSync)).toBe(true);
      expect((await rejection(store.remove(v1, { inUse: (id) => id === v1 }))).reason).toBe("ImageInUse");
      await store.remove(v1, { inUse: () => false });
      expect(store.list().map((i) => i.id)).toEqual([env.images["minik-test/httpd:2"]!.configDigest]);
    });

    test("progress reports bytes per layer up to the layer size", async () => {
      const store = createImageStore({ root: newRoot() });
      const seen = new Map<string, { done: number; total: number }>();
      await store.pull(testImageRef("minik-test/httpd:2"), { onProgress: (p) => seen.set(p.item, p) });
      expect(seen.size).toBe(2);
      for (const p of seen.values()) expect(p.done).toBe(p.total);
    });

    test("loads oci-archive (gzip layers) and docker-archive (plain tar layers)", async () => {
      const store = createImageStore({ root: newRoot() });
      for (const a of [env.archives.oci, env.archives.docker]) {
        const refs = await store.load(a.path);
        const expected = [a, ...(a.more ?? [])].map((x) => [x.name, x.configDigest]);
        expect(refs.map((r) => [r.name, r.id])).toEqual(expected);
        const r = store.resolve(a.name)!;
        expect(r.config.Cmd).toEqual(["cat", "/loaded.txt"]);
        expect(readFileSync(join(r.layerDirs.at(-1)!, "loaded.txt"), "utf8")).toBe(
          `loaded from ${a.format}\n`,
        );
        expect((await store.pull(a.name, { policy: "Never" })).id).toBe(a.configDigest);
      }
      // The second docker-archive image's base layer.tar is a symlink to the first's.
      const second = env.archives.docker.more![0]!;
      expect(store.resolve(second.name)!.layerDirs).toEqual(
        store.resolve(env.archives.docker.name)!.layerDirs.slice(0, 1),
      );
      // `docker save | gzip`, from a stream (an API upload), into a fresh store.
      const other = createImageStore({ root: newRoot() });
      const gz = join(newRoot(), "saved.tar.gz");
      writeFileSync(gz, gzip(readFileSync(env.archives.docker.path)));
      const refs = await other.load(Bun.file(gz).stream());
      expect(refs.map((r) => r.id)).toEqual([env.archives.docker.configDigest, second.configDigest]);
      for (const s of [store, other]) expect(readdirSync(join(s.root, "tmp"))).toEqual([]);
      expect((await rejection(store.load("/nonexistent.tar"))).reason).toBe("ImageLoadError");
      const junk = join(newRoot(), "junk.tar");
      writeFileSync(junk, "not a tar at all");
      expect((await rejection(store.load(junk))).message).toContain("loading image archive");
    });

    test("rm refuses an image in use, keeps shared layers, deletes the rest", async () => {
      const store = createImageStore({ root: newRoot() });
      const h1 = await store.pull(testImageRef("minik-test/httpd:1"));
      const h2 = await store.pull(testImageRef("minik-test/httpd:2"));
      const err = await rejection(store.remove(h1.name, { inUse: (id) => id === h1.id }));
      expect(err.reason).toBe("ImageInUse");
      expect(store.resolve(h1.name)).toBeDefined();
      const [base, www1] = store.resolve(h1.name)!.layerDirs;
      await store.remove(h1.name, { inUse: () => false });
      expect(store.resolve(h1.name)).toBeUndefined();
      expect(existsSync(www1!)).toBe(false);
      expect(existsSync(base!)).toBe(true);
      expect(store.resolve(h2.name)).toBeDefined();
      expect((await rejection(store.remove(h1.name))).reason).toBe("ImageNotFound");
      expect(store.resolve(h2.id.slice(7, 19))?.ref.name).toBe(h2.name);
      await store.remove(h2.id.slice(7, 19));
      // An index keeps its child manifest while pulled, and loses it on rm; a second name untags only.
      const multi = await store.pull(testImageRef("minik-test/multiarch:1"));
      const again = await store.pull(testImageRef("minik-test/multiarch:1-docker"));
      expect(readdirSync(join(store.root, "blobs/sha256")).length).toBe(5);
      await store.remove(again.name, { inUse: () => true });
      await store.remove(multi.name.replace(":1", `@${multi.digest}`));
      expect(store.list()).toEqual([]);
      expect(readdirSync(join(store.root, "l"))).toEqual([]);
      expect(readdirSync(join(store.root, "blobs/sha256"))).toEqual([]);
    });
  },
);

describe.skipIf(
  skipUnless(!!testImages && host.isRoot, "image store overlay", "needs the test registry and root"),
)("image store: layers in overlayfs", () => {
  test("whiteouts, opaque dirs and hardlinks of minik-test/layers:1 work in a merged overlay", async () => {
    const store = createImageStore({ root: newRoot() });
    await store.pull(testImageRef("minik-test/layers:1"));
    const { layerDirs } = store.resolve(testImageRef("minik-test/layers:1"))!;
    const work = newRoot();
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(work, d));
    const lower = [...layerDirs].reverse().join(":");
    const mount = Bun.spawnSync(
      [
        "mount",
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${lower},upperdir=${work}/upper,workdir=${work}/work`,
        `${work}/merged`,
      ],
      { stderr: "pipe" },
    );
    expect(mount.stderr.toString()).toBe("");
    try {
      const m = `${work}/merged`;
      expect(readdirSync(join(m, "data")).sort()).toEqual([
        "keep.txt",
        "layer3.txt",
        "link-to-keep.txt",
        "overwrite.txt",
      ]);
      expect(readdirSync(join(m, "opaque"))).toEqual(["new.txt"]);
      expect(existsSync(join(m, "removed-dir"))).toBe(false);
      const check = Bun.spawnSync(["chroot", m, "/bin/check-layers"], { stderr: "pipe" });
      expect(check.stdout.toString()).toContain("LAYERS-OK");
      expect(check.exitCode).toBe(0);
    } finally {
      Bun.spawnSync(["umount", `${work}/merged`]);
    }
  });
});

/** A tiny registry serving hand-made, possibly tampered content. */
function fakeRegistry(
  manifests: Record<string, { type: string; body: string; digestHeader?: string }>,
  blobs: Record<string, Uint8Array>,
) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/v2/") return new Response("{}");
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(path);
      if (m?.[2] === "manifests" && manifests[m[3]!]) {
        const x = manifests[m[3]!]!;
        return new Response(x.body, {
          headers: { "content-type": x.type, "docker-content-digest": x.digestHeader ?? sha256(x.body) },
        });
      }
      if (m?.[2] === "blobs" && blobs[m[3]!]) return new Response(new Uint8Array(blobs[m[3]!]!));
      return Response.json(
        { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] },
        { status: 404 },
      );
    },
  });
}

const WRONG_DIGEST = `sha256:${"1".repeat(64)}`;

describe("image store: verification against a fake registry", () => {
  let server: ReturnType<typeof fakeRegistry>;
  let good: { tar: Buffer; gz: Buffer };
  beforeAll(async () => {
    const tar = await makeTar([{ name: "hello.txt", content: "hello\n" }]);
    good = { tar, gz: gzip(tar) };
    const evilTar = await makeTar([{ name: "hello.txt", content: "evil!\n" }]);
    const evilGz = gzip(evilTar);
    const config = (diffId: string) =>
      JSON.stringify({
        os: "linux",
        architecture: hostArch,
        config: {},
        rootfs: { type: "layers", diff_ids: [diffId] },
      });
    const cfgGood = config(sha256(tar));
    const manifest = (layerDigest: string, layerSize: number, cfg: string) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha256(cfg),
          size: cfg.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: layerSize },
        ],
      });
    const type = "application/vnd.oci.image.manifest.v1+json";
    const ok = manifest(sha256(good.gz), good.gz.length, cfgGood);
    // "tampered": the manifest names the good layer, the registry serves other bytes under that digest.
    // "diffid": blob digest right, but its tar does not match the config's diff_id.
    const diff = manifest(sha256(evilGz), evilGz.length, cfgGood);
    server = fakeRegistry(
      {
        ok: { type, body: ok },
        diffid: { type, body: diff },
        lying: { type, body: ok, digestHeader: `sha256:${"0".repeat(64)}` },
        [sha256(ok)]: { type, body: ok },
        [WRONG_DIGEST]: { type, body: ok },
      },
      { [sha256(cfgGood)]: Buffer.from(cfgGood), [sha256(good.gz)]: good.gz, [sha256(evilGz)]: evilGz },
    );
  });
  afterAll(() => server?.stop(true));

  const at = () => `127.0.0.1:${server.port}/fake/img`;

  test("the untampered image pulls", async () => {
    const store = createImageStore({ root: newRoot() });
    const ref = await store.pull(`${at()}:ok`);
    expect(readFileSync(join(store.resolve(ref.name)!.layerDirs[0]!, "hello.txt"), "utf8")).toBe("hello\n");
  });

  test("a tampered layer blob is rejected and leaves nothing behind", async () => {
    const store = createImageStore({
      root: newRoot(),
      // Same fake registry, but every layer blob download returns other bytes of the same length.
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const url = input.toString();
        const r = await fetch(input, init);
        if (url.includes(sha256(good.gz))) {
          const bytes = new Uint8Array(await r.arrayBuffer());
          bytes[bytes.length - 5]! ^= 0xff;
          return new Response(bytes, { status: r.status, headers: r.headers });
        }
        return r;
      }) as typeof fetch,
    });
    const err = await rejection(store.pull(`${at()}:ok`));
    expect(err.reason).toBe("ErrImagePull");
    expect(err.message).toMatch(/mismatch|corrupt/);
    expect(store.list()).toEqual([]);
    expect(readdirSync(join(store.root, "l"))).toEqual([]);
    expect(readdirSync(join(store.root, "tmp"))).toEqual([]);
  });

  test("a layer download that stalls fails the pull instead of hanging", async () => {
    const store = createImageStore({
      root: newRoot(),
      stallTimeoutMs: 300,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const r = await fetch(input, init);
        if (!input.toString().includes(sha256(good.gz))) return r;
        // First 10 bytes, then silence until the client gives up.
        const bytes = new Uint8Array(await r.arrayBuffer());
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(bytes.subarray(0, 10));
            init?.signal?.addEventListener("abort", () => c.error(init.signal?.reason));
          },
        });
        return new Response(body, { status: 200 });
      }) as typeof fetch,
    });
    const t0 = Date.now();
    const err = await rejection(store.pull(`${at()}:ok`));
    expect(err.message).toContain("stalled");
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readdirSync(join(store.root, "l"))).toEqual([]);
  });

  test("a layer whose tar does not match the config's diff_id is rejected", async () => {
    const store = createImageStore({ root: newRoot() });
    const err = await rejection(store.pull(`${at()}:diffid`));
    expect(err.message).toContain("diff_id mismatch");
    expect(readdirSync(join(store.root, "l"))).toEqual([]);
  });

  test("a manifest whose Docker-Content-Digest or requested digest disagrees is rejected", async () => {
    const store = createImageStore({ root: newRoot() });
    expect((await rejection(store.pull(`${at()}:lying`))).message).toContain("Docker-Content-Digest");
    expect((await rejection(store.pull(`${at()}@${WRONG_DIGEST}`))).message).toContain(
      "manifest digest mismatch",
    );
    expect(store.list()).toEqual([]);
  });
});
