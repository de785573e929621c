import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { choosePlatform } from "./platform.ts";
import { parseImageReference } from "./reference.ts";
import { loadRegistriesConfig, withMirrorFlags } from "./registries-config.ts";
import { createRegistryClient, endpointsFor, parseChallenge } from "./registry-client.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("registry client pieces", () => {
  test("parses Www-Authenticate challenges", () => {
    expect(
      parseChallenge(
        'Bearer realm="http://127.0.0.1:5103/token",service="reg",scope="repository:a/b:pull",error="insufficient_scope"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "http://127.0.0.1:5103/token",
        service: "reg",
        scope: "repository:a/b:pull",
        error: "insufficient_scope",
      },
    });
    expect(parseChallenge('basic realm="minik-test"')).toEqual({
      scheme: "basic",
      params: { realm: "minik-test" },
    });
    expect(parseChallenge('BEARER Realm = "x\\"y", Service=plain')).toEqual({
      scheme: "bearer",
      params: { realm: 'x"y', service: "plain" },
    });
  });

  test("endpoints: mirrors first; plain HTTP for loopback and insecure hosts only", () => {
    const config = {
      mirrors: { "docker.io": { endpoint: ["http://127.0.0.1:5100/"] } },
      configs: { "reg.lan:5000": { insecure: true } },
    };
    expect(endpointsFor("docker.io", config)).toEqual([
      "http://127.0.0.1:5100",
      "https://registry-1.docker.io",
    ]);
    expect(endpointsFor("127.0.0.1:5100")).toEqual(["http://127.0.0.1:5100"]);
    expect(endpointsFor("localhost:5000")).toEqual(["http://localhost:5000"]);
    expect(endpointsFor("reg.lan:5000", config)).toEqual(["http://reg.lan:5000"]);
    expect(endpointsFor("ghcr.io")).toEqual(["https://ghcr.io"]);
  });

  test("platform choice skips arm64-first and unknown/unknown entries", () => {
    const e = (architecture: string, variant?: string, os = "linux") => ({
      mediaType: "m",
      digest: `${architecture}${variant ?? ""}`,
      size: 1,
      platform: { os, architecture, variant },
    });
    const list = [e("arm64", "v8"), e("unknown", undefined, "unknown"), e("amd64"), e("arm", "v7")];
    expect(choosePlatform(list, { os: "linux", architecture: "amd64" })?.digest).toBe("amd64");
    expect(choosePlatform(list, { os: "linux", architecture: "arm64", variant: "v8" })?.digest).toBe(
      "arm64v8",
    );
    expect(choosePlatform([e("arm64")], { os: "linux", architecture: "arm64", variant: "v8" })?.digest).toBe(
      "arm64",
    );
    expect(choosePlatform(list, { os: "linux", architecture: "s390x" })).toBeUndefined();
  });

  test("registries.yaml and --registry-mirror flags", () => {
    const d = mkdtempSync(join(tmpdir(), "minik-regcfg-"));
    dirs.push(d);
    const file = join(d, "registries.yaml");
    writeFileSync(
      file,
      `mirrors:\n  docker.io:\n    endpoint:\n      - "http://127.0.0.1:5100"\nconfigs:\n  "127.0.0.1:5101":\n    auth:\n      username: minik\n      password: pw\n    insecure: true\n`,
    );
    const cfg = loadRegistriesConfig(file);
    expect(cfg).toEqual({
      mirrors: { "docker.io": { endpoint: ["http://127.0.0.1:5100"] } },
      configs: { "127.0.0.1:5101": { auth: { username: "minik", password: "pw" }, insecure: true } },
    });
    expect(loadRegistriesConfig(join(d, "missing.yaml"))).toEqual({});
    const merged = withMirrorFlags(cfg, [
      "docker.io=http://127.0.0.1:5200",
      "quay.io=https://m.lan",
      "http://127.0.0.1:5300",
    ]);
    expect(merged.mirrors?.["docker.io"]?.endpoint).toEqual([
      "http://127.0.0.1:5200",
      "http://127.0.0.1:5300",
      "http://127.0.0.1:5100",
    ]);
    expect(merged.mirrors?.["quay.io"]?.endpoint).toEqual(["https://m.lan"]);
    expect(() => withMirrorFlags({}, ["docker.io=ftp://x"])).toThrow(RuntimeError);
    writeFileSync(file, "mirrors:\n  docker.io:\n    endpoint: 5\n");
    expect(() => loadRegistriesConfig(file)).toThrow("endpoint must be a list");
  });

  test("a bearer challenge with insufficient_scope asks for a token for this repository", async () => {
    const scopes: string[] = [];
    const server: ReturnType<typeof Bun.serve> = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req): Response {
        const url = new URL(req.url);
        if (url.pathname === "/token") {
          scopes.push(url.searchParams.get("scope") ?? "");
          return Response.json({ token: `tok-${url.searchParams.get("scope")}` });
        }
        const want = "Bearer tok-repository:team/app:pull";
        if (req.headers.get("authorization") !== want) {
          return new Response("{}", {
            status: 401,
            headers: {
              "www-authenticate": `Bearer realm="http://127.0.0.1:${server.port}/token",service="s",scope="repository:other:pull",error="insufficient_scope"`,
            },
          });
        }
        const body = JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: {},
          layers: [],
        });
        return new Response(body, {
          headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
        });
      },
    });
    try {
      const client = createRegistryClient();
      const m = await client.getManifest(parseImageReference(`127.0.0.1:${server.port}/team/app:1`), "1");
      expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
      expect(scopes).toEqual(["repository:team/app:pull"]);
    } finally {
      server.stop(true);
    }
  });
});
