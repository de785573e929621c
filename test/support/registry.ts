import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { alive, takeLease } from "../../scripts/test-images/leases.ts";
import type { TestImagesEnv } from "../../scripts/test-images/start.ts";

/**
 * The test images and loopback registries started by `scripts/test-images/start` (scripts/test
 * runs it). Tests that pull images use `describe.skipIf(skipUnless(!!testImages, "suite", testImagesMissing))`.
 *
 * `testImages.registries.plain.host` is e.g. `127.0.0.1:5100`; pull `${host}/minik-test/busybox:1`.
 * Images: minik-test/busybox:1 (and :1-docker, :1-zstd), minik-test/httpd:1 and :2, minik-test/layers:1,
 * minik-test/crasher:1, minik-test/multiarch:1 (and :1-docker), library/nginx:1.7.9 (= httpd:1).
 * Each with manifestDigest, configDigest (the imageID) and diffIds. Archives: `testImages.archives.oci`
 * and `.docker` (path, name, configDigest).
 */
export const TEST_IMAGES_ENV = process.env.MINIK_TEST_IMAGES_ENV ?? "/tmp/minik-test-images/env.json";

let missing = `no test registry (${TEST_IMAGES_ENV} missing): run \`bash scripts/test-images/start\``;

function load(): TestImagesEnv | undefined {
  if (!existsSync(TEST_IMAGES_ENV)) return undefined;
  try {
    const env = JSON.parse(readFileSync(TEST_IMAGES_ENV, "utf8")) as TestImagesEnv;
    if (!env.pids.every(alive)) {
      missing = `test registry processes from ${TEST_IMAGES_ENV} are gone: run \`bash scripts/test-images/start\``;
      return undefined;
    }
    // Hold a lease for this test process, so another run's `stop` leaves the registries up.
    takeLease(dirname(TEST_IMAGES_ENV), process.pid);
    return env;
  } catch {
    return undefined;
  }
}

export const testImages: TestImagesEnv | undefined = load();

export const testImagesMissing = missing;

/** `127.0.0.1:5100/minik-test/busybox:1` for an image name from the env, on the plain registry. */
export function testImageRef(name: string, registry: "plain" | "basic" | "token" = "plain"): string {
  const env = testImages;
  if (!env) throw new Error(testImagesMissing);
  const r = env.registries[registry];
  if (!r) throw new Error(`test registry ${registry} is not running`);
  if (!env.images[name])
    throw new Error(`unknown test image ${name}; known: ${Object.keys(env.images).join(", ")}`);
  return `${r.host}/${name}`;
}

/**
 * A k3s-style registries.yaml for minik's data dir: docker.io served from the plain test registry
 * (so the issue's `nginx:1.7.9` resolves to minik-test/httpd:1), and credentials for the basic- and
 * token-auth registries.
 */
export function testRegistriesYaml(): string {
  const env = testImages;
  if (!env) throw new Error(testImagesMissing);
  const { plain, basic, token } = env.registries;
  const cfg = (r: { host: string; username?: string; password?: string }) =>
    `  "${r.host}":\n    auth:\n      username: ${r.username}\n      password: ${r.password}\n`;
  return `mirrors:\n  docker.io:\n    endpoint:\n      - "${plain.url}"\nconfigs:\n${cfg(basic)}${token ? cfg(token) : ""}`;
}
