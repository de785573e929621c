import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { createNodeAgent, type NodeAgent } from "../../core/agent/agent.ts";
import { createEventRecorder } from "../../core/events.ts";
import type { KubeObject } from "../../core/object.ts";
import { createRegistry, type Registry } from "../../core/registry/registry.ts";
import type { ContainerRuntime } from "../../core/seams/container-runtime.ts";
import { createSqlStore } from "../../core/store/sql-store.ts";
import type { Store } from "../../core/store/store.ts";
import { releaseCrunNamespace } from "../../runtime/crun/crun-namespace.ts";
import { createCrunRuntime } from "../../runtime/crun/crun-runtime.ts";
import { createImageStore } from "../../runtime/image/image-store.ts";
import { dialPod } from "../../runtime/net/dial.ts";
import { createIpam } from "../../runtime/net/ipam.ts";
import { createPodNetwork, type PodNetwork } from "../../runtime/net/pod-network.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImageRef, testImages, testImagesMissing } from "../support/registry.ts";

/**
 * The node agent on a whole node: image store pulling from the loopback test registry, crun, and
 * a pod network of its own (bridge, CIDR and name prefixes no minik uses), so probes and
 * port-forward reach a real server on its pod IP.
 */
const ok = host.canRunContainers && host.canUseNetns && !!testImages;
const why = !testImages ? testImagesMissing : "needs root, crun and ip";
const NODE = "node-net";
type PodObject = Pod & KubeObject;

describe.skipIf(skipUnless(ok, "agent on a node", why))("node agent with images and pod network", () => {
  const dataDir = mkdtempSync("/tmp/minik-agent-node-");
  let store: Store;
  let client: Registry;
  let net: PodNetwork;
  let runtime: ContainerRuntime;
  let agent: NodeAgent;

  beforeAll(async () => {
    store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
    client = createRegistry(store);
    await client.bootstrap();
    net = createPodNetwork({
      ipam: await createIpam({ cidr: "10.251.0.0/24" }),
      bridge: "minika0",
      serviceCidr: "10.250.0.0/24",
      netnsPrefix: "minika-",
      vethPrefix: "vma",
    });
    runtime = createCrunRuntime({
      dataDir: `${dataDir}/crun`,
      images: createImageStore({ root: `${dataDir}/images` }),
      network: net,
    });
    await runtime.start();
    agent = createNodeAgent({
      client,
      dial: dialPod,
      runtime,
      nodeName: NODE,
      events: createEventRecorder(client, "kubelet", NODE),
      clusterDns: { nameserver: "10.250.0.10", searchDomain: "cluster.local" },
      hostIP: "127.0.0.1",
      log: () => {},
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent.stop();
    for (const s of await runtime.listPodSandboxes())
      await runtime.removePodSandbox(s.podUid).catch(() => {});
    await runtime.close();
    await net.cleanupAll().catch(() => {});
    releaseCrunNamespace(`${dataDir}/crun/run`);
    rmSync(dataDir, { recursive: true, force: true });
    await store.close();
  });

  const cs = (p: Pod) => p.status?.containerStatuses?.[0] as ContainerStatus;
  const waitPod = (name: string, check: (p: Pod) => unknown, timeoutMs = 15_000) =>
    waitFor(
      async () => {
        const p = await client.get<PodObject>("pods", "default", name);
        return check(p) ? p : undefined;
      },
      { timeoutMs, what: `pod ${name}` },
    );
  const createPod = (name: string, spec: Partial<NonNullable<Pod["spec"]>>) =>
    client.create<PodObject>("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: { nodeName: NODE, containers: [], terminationGracePeriodSeconds: 1, ...spec },
    });
  const events = async (name: string) =>
    (await client.list("events", { namespace: "default" })).items
      .filter((e) => (e.involvedObject as { name: string }).name === name)
      .map((e) => `${e.reason}: ${e.message}`);

  test("an httpd pod becomes Ready through HTTP and TCP probes on its pod IP; port-forward reaches it", async () => {
    const image = testImageRef("minik-test/httpd:1");
    await createPod("httpd", {
      containers: [
        {
          name: "web",
          image,
          ports: [{ name: "http", containerPort: 80 }],
          readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
          livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 },
        },
      ],
    });
    const pod = await waitPod(
      "httpd",
      (p) => p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True",
    );
    expect(pod.status!.podIP).toMatch(/^10\.251\.0\.\d+$/);
    expect(cs(pod).imageID).toBe(testImages!.images["minik-test/httpd:1"]!.configDigest);
    // events are written in batches, a moment after they are recorded
    const ev = await waitFor(
      async () => {
        const all = await events("httpd");
        return all.some((e) => e.startsWith(`Pulled: Successfully pulled image "${image}" in `))
          ? all
          : undefined;
      },
      { what: "the Pulled event" },
    );
    expect(ev).toContain(`Pulling: Pulling image "${image}"`);

    const conn = await agent.nodeServices.portForward("default", "httpd", 80);
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: x\r\n\r\n"));
    const response = await new Response(conn.readable).text();
    expect(response).toStartWith("HTTP/1.");
    expect(response).toContain("minik-test/httpd v1");
    conn.close();
  });

  test("a missing image is ErrImagePull with the registry's answer", async () => {
    const image = `${testImages!.registries.plain.host}/minik-test/does-not-exist:1`;
    await createPod("missing", { containers: [{ name: "app", image }] });
    const pod = await waitPod("missing", (p) => cs(p)?.state?.waiting?.reason === "ErrImagePull");
    expect(cs(pod).state!.waiting!.message).toBeTruthy();
    expect(pod.status!.phase).toBe("Pending");
    // status and event are separate writes: wait for the event rather than expect it already
    await waitFor(
      async () =>
        (await events("missing")).some((e) => e.startsWith(`Failed: Failed to pull image "${image}": `)),
      { what: "the Failed event of the pull" },
    );
  });

  test("the crasher image ends in CrashLoopBackOff with its exit code", async () => {
    await createPod("crasher", {
      containers: [{ name: "app", image: testImageRef("minik-test/crasher:1") }],
    });
    const pod = await waitPod("crasher", (p) => cs(p)?.state?.waiting?.reason === "CrashLoopBackOff");
    expect(cs(pod).restartCount).toBe(1);
    expect(cs(pod).lastState?.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    const logs = await new Response(await agent.nodeServices.logs("default", "crasher", "app", {})).text();
    expect(logs).toBe("crashing in 1s\n");
  });
});
