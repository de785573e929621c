import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { host, skipUnless } from "../../test/support/env.ts";
import { testImageRef, testImages } from "../../test/support/registry.ts";
import { createFixture, type Fixture } from "../crun/testing/fixture.ts";
import { createImageStore } from "./image-store.ts";

/**
 * The seam between the image store and CrunRuntime: pulled images really run, with their layers
 * stacked by overlayfs (whiteouts honoured) and the platform chosen from an index.
 */
describe.skipIf(
  skipUnless(
    !!testImages && host.canRunContainers,
    "images in crun",
    "needs the test registry, root and crun",
  ),
)("pulled images run in crun", () => {
  let fx: Fixture;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync("/tmp/minik-image-run-");
    fx = await createFixture({ images: createImageStore({ root }) });
  });
  afterAll(async () => {
    await fx?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(image: string): Promise<{ exitCode?: number; logs: string }> {
    await fx.rt.pullImage(image, "IfNotPresent");
    const sb = fx.sandbox();
    await fx.rt.runPodSandbox(sb);
    const exited = fx.nextEvent(fx.rt, (e) => e.type === "exited", 8000);
    const st = await fx.rt.startContainer({ ...fx.container(sb, "c", []), command: undefined, image });
    await exited;
    const status = (await fx.rt.listContainers()).find((c) => c.id === st.id);
    return { exitCode: status?.exitCode, logs: await new Response(fx.rt.logs(st.id, {})).text() };
  }

  test("minik-test/layers:1 sees whiteouts, opaque dirs and hardlinks merged (check-layers)", async () => {
    const r = await run(testImageRef("minik-test/layers:1"));
    expect(r.logs).toContain("LAYERS-OK");
    expect(r.exitCode).toBe(0);
  });

  test("minik-test/multiarch:1 runs the host's platform", async () => {
    const r = await run(testImageRef("minik-test/multiarch:1"));
    expect(r.logs.trim()).toBe(process.arch === "x64" ? "amd64" : process.arch);
  });
});
