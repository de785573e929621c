import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import type { ContainerRuntime, ContainerStatus, SandboxConfig } from "../../core/seams/container-runtime.ts";
import { runContainerRuntimeSuite } from "../../core/seams/testing/container-runtime-suite.ts";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";
import { testImageRef, testImages, testImagesMissing } from "../../test/support/registry.ts";
import { createImageStore } from "../image/image-store.ts";
import { createIpam } from "../net/ipam.ts";
import { createPodNetwork, type PodNetwork } from "../net/pod-network.ts";
import { getFromHost } from "../net/testing/test-hosts.ts";
import { releaseCrunNamespace } from "./crun-namespace.ts";
import { createCrunRuntime } from "./crun-runtime.ts";
import { containerConfig, sandboxConfig } from "./testing/fixture.ts";

/**
 * CrunRuntime with the real image store (pulling from the loopback test registry) and the real
 * pod network: whiteouts through the overlay, a crashing image, an HTTP server reached on its pod
 * IP, and the shared conformance suite.
 */
const ok = host.canRunContainers && host.canUseNetns && !!testImages;
const why = !testImages ? testImagesMissing : "needs root, crun and ip";
// Names of its own so it never meets a running minik or the network tests.
const BRIDGE = "minikc0";

describe.skipIf(skipUnless(ok, "crun with images", why))("CrunRuntime with pulled images", () => {
  const dataDir = mkdtempSync("/tmp/minik-crun-img-");
  let rt: ContainerRuntime;
  let net: PodNetwork;
  const pods: string[] = [];

  beforeAll(async () => {
    const ipam = await createIpam({ cidr: "10.252.0.0/24" });
    net = createPodNetwork({
      ipam,
      bridge: BRIDGE,
      serviceCidr: "10.253.0.0/24",
      netnsPrefix: "minikc-",
      vethPrefix: "vmc",
    });
    const images = createImageStore({ root: `${dataDir}/images` });
    rt = createCrunRuntime({ dataDir: `${dataDir}/crun`, images, network: net });
    await rt.start();
  }, 60_000);
  afterAll(async () => {
    for (const uid of pods) await rt.removePodSandbox(uid).catch(() => {});
    await rt.close();
    await net.cleanupAll().catch(() => {});
    releaseCrunNamespace(`${dataDir}/crun/run`);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const sandbox = (name: string): SandboxConfig => {
    const sb = sandboxConfig(name, `${name}-${crypto.randomUUID()}`, {
      hostAliases: [{ ip: "10.9.9.9", hostnames: ["alias.test"] }],
    });
    pods.push(sb.podUid);
    return sb;
  };
  const run = async (sb: SandboxConfig, image: string) => {
    await rt.pullImage(image, "IfNotPresent");
    return rt.startContainer(containerConfig(sb, "main", { image }));
  };
  const exited = (id: string) =>
    waitFor(
      async () => {
        const s = (await rt.listContainers()).find((c) => c.id === id);
        return s?.state === "exited" ? s : undefined;
      },
      { what: `${id} to exit`, timeoutMs: 5000 },
    ) as Promise<ContainerStatus>;

  test("whiteouts, opaque dirs and hardlinks of minik-test/layers:1 look right through the overlay", async () => {
    const sb = sandbox("layers");
    await rt.runPodSandbox(sb);
    const c = await run(sb, testImageRef("minik-test/layers:1"));
    const s = await exited(c.id);
    const log = await new Response(rt.logs(c.id, {})).text();
    expect(log).toContain("LAYERS-OK");
    expect(s.exitCode).toBe(0);
    expect(s.imageId).toBe(testImages!.images["minik-test/layers:1"]!.configDigest);
  });

  test("minik-test/crasher:1 exits 1 after its message", async () => {
    const sb = sandbox("crasher");
    await rt.runPodSandbox(sb);
    const c = await run(sb, testImageRef("minik-test/crasher:1"));
    const s = await exited(c.id);
    expect([s.exitCode, s.reason]).toEqual([1, "Error"]);
    expect(await new Response(rt.logs(c.id, {})).text()).toBe("crashing in 1s\n");
  });

  test("minik-test/httpd:1 serves on its pod IP; /etc/hosts lists the pod IP and host aliases", async () => {
    const sb = sandbox("httpd-pod");
    const status = await rt.runPodSandbox(sb);
    expect(status.ip).toMatch(/^10\.252\.0\.\d+$/);
    const c = await run(sb, testImageRef("minik-test/httpd:1"));
    const body = await waitFor(() => getFromHost(`http://${status.ip}/`), { what: "httpd to answer" });
    expect(body).toBe("minik-test/httpd v1");
    const e = await rt.exec(c.id, ["sh", "-c", "cat /etc/hosts; wget -qO- http://127.0.0.1/"], {
      tty: false,
      stdin: false,
    });
    const out = await new Response(e.stdout).text();
    expect(out).toContain(`${status.ip}\thttpd-pod`);
    expect(out).toContain("10.9.9.9\talias.test");
    expect(out).toContain("minik-test/httpd v1");
  });
});

describe.skipIf(skipUnless(ok, "crun conformance with images", why))("CrunRuntime + image store", () => {
  const dataDir = mkdtempSync("/tmp/minik-crun-imgsuite-");
  const images = ok ? createImageStore({ root: `${dataDir}/images` }) : undefined;
  afterAll(() => {
    releaseCrunNamespace(`${dataDir}/crun/run`);
    rmSync(dataDir, { recursive: true, force: true });
  });
  if (!ok) return;
  runContainerRuntimeSuite(
    "crun + image store",
    async () => createCrunRuntime({ dataDir: `${dataDir}/crun`, images: images! }),
    {
      image: testImageRef("minik-test/busybox:1"),
      missingImage: `${testImages!.registries.plain.host}/minik-test/does-not-exist:1`,
      commands: {
        sleep: ["sleep", "3600"],
        exit: (code, afterMs) => ["sh", "-c", `sleep ${afterMs / 1000}; exit ${code}`],
        echo: (text) => ["echo", text],
        cat: ["cat"],
        missingBinary: ["/no/such/binary"],
      },
    },
  );
});
