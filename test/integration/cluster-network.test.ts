import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Service } from "kubernetes-types/core/v1";
import type { Controller } from "../../core/controllers/controller.ts";
import { createInformers, type Informers } from "../../core/controllers/informer.ts";
import { createEventRecorder } from "../../core/events.ts";
import { systemClock } from "../../core/loop/clock.ts";
import { networkControllers } from "../../core/network/network-controllers.ts";
import { createServiceAllocator } from "../../core/network/service-allocator.ts";
import type { KubeObject } from "../../core/object.ts";
import { createRegistry, type Registry } from "../../core/registry/registry.ts";
import { createSqlStore } from "../../core/store/sql-store.ts";
import type { Store } from "../../core/store/store.ts";
import { run } from "../../runtime/net/exec.ts";
import { createNodeNetwork, type NodeNetwork } from "../../runtime/net/node-network.ts";
import type { PodNetworkStatus } from "../../runtime/net/pod-network.ts";
import {
  getFromHost,
  nslookup,
  repeat,
  startHttpd,
  type TestHttpd,
  tally,
} from "../../runtime/net/testing/test-hosts.ts";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";

/**
 * The whole network path as minik wires it, minus crun: registry with the allocator hooks, shared
 * informers, the service-proxy and cluster-dns controllers, and a real NodeNetwork whose "pods"
 * are namespaces running busybox httpd.
 */
describe.skipIf(
  skipUnless(host.canUseNetns && host.canUseNftables, "cluster network", "needs root, ip and nft"),
)("cluster network wired end to end", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "minik-net-"));
  let store: Store;
  let registry: Registry;
  let informers: Informers;
  let controllers: Record<string, Controller>;
  let node: NodeNetwork;
  const pods: PodNetworkStatus[] = [];
  const servers: TestHttpd[] = [];

  beforeAll(async () => {
    await run(["nft", "delete", "table", "ip", "minik_test4"]);
    await run(["ip", "link", "del", "minikt4"]);
    node = await createNodeNetwork({
      dataDir,
      bridge: "minikt4",
      table: "minik_test4",
      podCidr: "10.248.0.0/24",
      serviceCidr: "10.247.0.0/24",
      netnsPrefix: "miniktc-",
      vethPrefix: "vmc",
    });
    store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
    // A NodePort range of its own, so a minik running beside the tests never shares a port.
    const allocator = createServiceAllocator({ serviceCidr: "10.247.0.0/24", nodePortRange: "29100-29199" });
    registry = createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] });
    await registry.bootstrap();
    informers = createInformers(registry);
    ({ controllers } = networkControllers(
      {
        client: registry,
        informers,
        events: (c) => createEventRecorder(registry, c),
        clock: systemClock,
        log: () => {},
      },
      node,
    ));
    await informers.start();
    for (const c of Object.values(controllers)) c.start();
    for (const name of ["web-1", "web-2", "client"]) {
      const pod = await node.podNetwork.setup(name, { podName: `default/${name}` });
      pods.push(pod);
      if (name !== "client") servers.push(await startHttpd(pod.netnsPath, name));
    }
  });

  afterAll(async () => {
    for (const c of Object.values(controllers ?? {})) await c.stop();
    informers?.stop();
    for (const s of servers) await s.stop();
    await node?.cleanupAll();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a NodePort Service with an EndpointSlice is reachable by ClusterIP, NodePort and DNS name", async () => {
    const svc = (await registry.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: {
        type: "NodePort",
        selector: { app: "web" },
        ports: [{ name: "http", port: 80, targetPort: 80 }],
      },
    })) as unknown as Service;
    const clusterIP = svc.spec!.clusterIP!;
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    expect(clusterIP.startsWith("10.247.0.")).toBe(true);
    await registry.create("endpointslices.discovery.k8s.io", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "web-x1", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 80, protocol: "TCP" }],
      endpoints: pods.slice(0, 2).map((p) => ({ addresses: [p.ip], conditions: { ready: true } })),
    } as KubeObject);
    await waitFor(async () => (await getFromHost(`http://${clusterIP}/`, 500))?.startsWith("web-"), {
      what: "ClusterIP",
    });
    const spread = tally(await repeat(30, () => getFromHost(`http://${clusterIP}/`)));
    expect(Object.keys(spread).sort()).toEqual(["web-1", "web-2"]);
    expect(
      tally(await repeat(10, () => getFromHost(`http://127.0.0.1:${nodePort}/`)))["(failed)"],
    ).toBeUndefined();
    const client = pods[2]!;
    const ask = (...args: string[]) => nslookup(client.netnsPath, node.dnsAddress, ...args);
    expect(await ask("web.default.svc.cluster.local")).toContain(clusterIP);
    // Reverse lookups of cluster addresses are answered here, never sent upstream.
    expect(await ask(clusterIP)).toContain("web.default.svc.cluster.local");
    expect(await ask("-type=SRV", "_http._tcp.web.default.svc.cluster.local")).toMatch(
      /0 100 80 web\.default\.svc\.cluster\.local/,
    );
    expect(await ask("10.248.0.200")).toContain("NXDOMAIN");
  });

  test("deleting the Service takes it out of the data path and DNS", async () => {
    const svc = (await registry.get("services", "default", "web")) as unknown as Service;
    await registry.delete("services", "default", "web");
    const lookup = () => nslookup(pods[2]!.netnsPath, node.dnsAddress, "web.default.svc.cluster.local");
    await waitFor(async () => (await lookup()).includes("NXDOMAIN"), { what: "DNS name gone" });
    // The ClusterIP is no longer served (and stays unreachable: it never leaves the bridge).
    await waitFor(async () => (await getFromHost(`http://${svc.spec!.clusterIP}/`, 300)) === undefined, {
      what: "ClusterIP gone",
    });
    expect(await getFromHost(`http://${svc.spec!.clusterIP}/`, 1000)).toBeUndefined();
  });
});
