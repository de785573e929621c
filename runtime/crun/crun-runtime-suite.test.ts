import { afterAll, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { runContainerRuntimeSuite } from "../../core/seams/testing/container-runtime-suite.ts";
import { host, skipUnless } from "../../test/support/env.ts";
import { releaseCrunNamespace } from "./crun-namespace.ts";
import { createCrunRuntime } from "./crun-runtime.ts";
import { busyboxImageSource } from "./testing/busybox-image.ts";
import { BUSYBOX } from "./testing/fixture.ts";

/** The shared ContainerRuntime contract (runtime/container-runtime-suite.ts) on real crun. */
describe.skipIf(skipUnless(host.canRunContainers, "crun conformance", "needs root and crun"))(
  "CrunRuntime",
  () => {
    const dataDir = mkdtempSync("/tmp/minik-crun-suite-");
    const images = busyboxImageSource(dataDir);
    afterAll(() => {
      releaseCrunNamespace(`${dataDir}/run`);
      rmSync(dataDir, { recursive: true, force: true });
    });
    runContainerRuntimeSuite("crun", async () => createCrunRuntime({ dataDir, images }), {
      image: BUSYBOX,
      commands: {
        sleep: ["sleep", "3600"],
        exit: (code, afterMs) => ["sh", "-c", `sleep ${afterMs / 1000}; exit ${code}`],
        echo: (text) => ["echo", text],
        cat: ["cat"],
        missingBinary: ["/no/such/binary"],
      },
      eventTimeoutMs: 3000,
    });
  },
);
