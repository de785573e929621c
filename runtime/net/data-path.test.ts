import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import type { ProxyServicePort } from "../../core/seams/service-proxy.ts";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";
import { dialPod } from "./dial.ts";
import { run } from "./exec.ts";
import { createIpam } from "./ipam.ts";
import { createNftProxy, type NftProxy } from "./nft-proxy.ts";
import { createPodNetwork, type PodNetwork, type PodNetworkStatus } from "./pod-network.ts";
import {
  getFromHost,
  repeat,
  startHttpd,
  startUdpResponder,
  type TestHttpd,
  tally,
  udpAsk,
  wgetFrom,
} from "./testing/test-hosts.ts";

// Names of its own, so this never collides with a running minik (minik0, table minik, minik-*).
const BRIDGE = "minikt0";
const TABLE = "minik_test";
const POD_CIDR = "10.250.0.0/24";
const SERVICE_CIDR = "10.251.0.0/24";
const CLUSTER_IP = "10.251.0.10";

describe.skipIf(
  skipUnless(host.canUseNetns && host.canUseNftables, "pod network data path", "needs root, ip and nft"),
)("pod network and nft service proxy", () => {
  let net: PodNetwork;
  let proxy: NftProxy;
  let a: PodNetworkStatus;
  let b: PodNetworkStatus;
  let c: PodNetworkStatus;
  const servers: TestHttpd[] = [];

  const service = (
    endpoints: PodNetworkStatus[],
    extra: Partial<ProxyServicePort> = {},
  ): ProxyServicePort => ({
    key: "default/web:http",
    clusterIP: CLUSTER_IP,
    port: 80,
    protocol: "TCP",
    // Outside the default NodePort range, so a minik running beside the tests never shares one.
    nodePort: 29080,
    endpoints: endpoints.map((p) => ({ ip: p.ip, port: 80 })),
    ...extra,
  });

  beforeAll(async () => {
    await removeLeftovers();
    const ipam = await createIpam({ cidr: POD_CIDR });
    proxy = await createNftProxy({ table: TABLE, podCidr: POD_CIDR, bridge: BRIDGE });
    net = createPodNetwork({
      ipam,
      bridge: BRIDGE,
      serviceCidr: SERVICE_CIDR,
      netnsPrefix: "minikt-",
      vethPrefix: "vmt",
      hostPortTable: proxy,
    });
    a = await net.setup("pod-a");
    b = await net.setup("pod-b");
    c = await net.setup("pod-c");
    servers.push(await startHttpd(a.netnsPath, "pod-a"), await startHttpd(b.netnsPath, "pod-b"));
    await waitFor(
      async () =>
        (await getFromHost(`http://${a.ip}/`)) === "pod-a" &&
        (await getFromHost(`http://${b.ip}/`)) === "pod-b",
      {
        what: "httpd in both pods",
      },
    );
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await net?.cleanupAll();
    await proxy?.cleanup();
  });

  test("pods get distinct IPs in the CIDR, reach each other, and the host reaches them", async () => {
    expect(new Set([a.ip, b.ip, c.ip]).size).toBe(3);
    for (const p of [a, b, c]) expect(p.ip.startsWith("10.250.0.")).toBe(true);
    expect(existsSync(a.netnsPath)).toBe(true);
    expect(await wgetFrom(a.netnsPath, `http://${b.ip}/`)).toBe("pod-b");
    expect(await wgetFrom(c.netnsPath, `http://${a.ip}/`)).toBe("pod-a");
    expect((await net.list()).map((p) => p.podUid).sort()).toEqual(["pod-a", "pod-b", "pod-c"]);
  });

  test("a ClusterIP spreads connections over both endpoints, from the host and from a pod", async () => {
    await proxy.sync([service([a, b])]);
    const fromHost = tally(await repeat(40, () => getFromHost(`http://${CLUSTER_IP}/`)));
    expect(fromHost["pod-a"]! + fromHost["pod-b"]!).toBe(40);
    expect(fromHost["pod-a"]).toBeGreaterThan(4);
    expect(fromHost["pod-b"]).toBeGreaterThan(4);
    const fromPod: (string | undefined)[] = [];
    for (let i = 0; i < 20; i++) fromPod.push(await wgetFrom(c.netnsPath, `http://${CLUSTER_IP}/`));
    const t = tally(fromPod);
    expect(t["pod-a"]! + t["pod-b"]!).toBe(20);
    // Hairpin: a pod reaching its own service, possibly landing on itself.
    const self = tally(await repeat(10, () => wgetFrom(a.netnsPath, `http://${CLUSTER_IP}/`)));
    expect(self["(failed)"]).toBeUndefined();
  });

  test("without outbound NAT, pods cannot reach networks behind other interfaces", async () => {
    // A stand-in for "the outside": a namespace of the test's own behind a host veth that is not
    // on the bridge, with a route back to the pods, so only minik's isolation can stop the traffic.
    const outside = "/run/netns/minikt-outside";
    await run(
      ["ip", "-batch", "-"],
      "netns add minikt-outside\nlink add vmtout up type veth peer name eth0 netns minikt-outside\naddr add 10.246.0.1/24 dev vmtout",
    );
    await run(
      ["ip", "-n", "minikt-outside", "-batch", "-"],
      "addr add 10.246.0.2/24 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via 10.246.0.1",
    );
    // Forwarding on the test's own veth, so replies could come back if minik let requests out.
    writeFileSync("/proc/sys/net/ipv4/conf/vmtout/forwarding", "1");
    const server = await startHttpd(outside, "outside");
    try {
      await waitFor(() => getFromHost("http://10.246.0.2/").then((b) => b === "outside"), {
        what: "outside httpd",
      });
      await proxy.sync([]);
      expect(await wgetFrom(c.netnsPath, "http://10.246.0.2/", 1)).toBeUndefined();
      // The rule is what stops it: without it (outbound NAT on) the same request gets through,
      // since the bridge forwards.
      const open = await createNftProxy({
        table: TABLE,
        podCidr: POD_CIDR,
        bridge: BRIDGE,
        outboundNat: true,
      });
      await open.sync([]);
      expect(await wgetFrom(c.netnsPath, "http://10.246.0.2/", 2)).toBe("outside");
      await proxy.sync([]);
      expect(await wgetFrom(c.netnsPath, "http://10.246.0.2/", 1)).toBeUndefined();
    } finally {
      await server.stop();
      await run(["ip", "link", "del", "vmtout"]);
      await run(["ip", "netns", "del", "minikt-outside"]);
    }
  });

  test("a NodePort answers on 127.0.0.1", async () => {
    await proxy.sync([service([a, b])]);
    const t = tally(await repeat(20, () => getFromHost("http://127.0.0.1:29080/")));
    expect(t["pod-a"]! + t["pod-b"]!).toBe(20);
  });

  test("a removed endpoint leaves rotation; a service without endpoints refuses at once", async () => {
    await proxy.sync([service([b])]);
    const t = tally(await repeat(20, () => getFromHost(`http://${CLUSTER_IP}/`)));
    expect(t).toEqual({ "pod-b": 20 });
    await proxy.sync([service([])]);
    const started = Date.now();
    expect(await getFromHost(`http://${CLUSTER_IP}/`, 3000)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test.skipIf(!Bun.which("conntrack"))(
    "a UDP client's flow follows the endpoints after they change (stale conntrack entries removed)",
    async () => {
      const udpA = await startUdpResponder(a.netnsPath, "pod-a", 5353);
      const udpB = await startUdpResponder(b.netnsPath, "pod-b", 5353);
      const udp = (eps: PodNetworkStatus[]): ProxyServicePort => ({
        key: "default/udp:dns",
        clusterIP: "10.251.0.12",
        port: 53,
        protocol: "UDP",
        endpoints: eps.map((p) => ({ ip: p.ip, port: 5353 })),
      });
      const from = { hostname: net.gateway, port: 41999 };
      try {
        await proxy.sync([udp([])]);
        expect(await udpAsk(from, "10.251.0.12", 53, 300)).toBeUndefined(); // no endpoints: refused
        await proxy.sync([udp([a])]);
        expect(await udpAsk(from, "10.251.0.12", 53)).toBe("pod-a");
        await proxy.sync([udp([b])]);
        // Same source port, same flow: without the conntrack clean-up this would still reach pod-a.
        expect(await udpAsk(from, "10.251.0.12", 53)).toBe("pod-b");
      } finally {
        await udpA.stop();
        await udpB.stop();
      }
    },
  );

  test("ClientIP affinity sticks to one endpoint, and survives an unrelated re-sync", async () => {
    const sticky = service([a, b], { affinityTimeoutSeconds: 600 });
    await proxy.sync([sticky]);
    const first = await getFromHost(`http://${CLUSTER_IP}/`);
    expect(["pod-a", "pod-b"]).toContain(first!);
    const again = tally(await repeat(15, () => getFromHost(`http://${CLUSTER_IP}/`)));
    expect(again).toEqual({ [first!]: 15 });
    await proxy.sync([
      sticky,
      { ...service([a]), key: "default/other:http", clusterIP: "10.251.0.11", nodePort: undefined },
    ]);
    expect(tally(await repeat(10, () => getFromHost(`http://${CLUSTER_IP}/`)))).toEqual({ [first!]: 10 });
    // From a pod, whose own choice is independent of the host's.
    const pod = tally(await repeat(8, () => wgetFrom(c.netnsPath, `http://${CLUSTER_IP}/`)));
    expect(Object.keys(pod)).toHaveLength(1);
  });

  test("hostPort: DNAT from 127.0.0.1 to the pod; a conflicting hostPort is refused before anything is created", async () => {
    await proxy.sync([]);
    const d = await net.setup("pod-d", {
      hostPorts: [{ hostPort: 18080, containerPort: 80, protocol: "TCP" }],
      podName: "default/d",
    });
    servers.push(await startHttpd(d.netnsPath, "pod-d"));
    expect(
      await waitFor(() => getFromHost("http://127.0.0.1:18080/").then((b) => b === "pod-d"), {
        what: "hostPort",
      }),
    ).toBe(true);
    const err = await net
      .setup("pod-e", {
        hostPorts: [{ hostPort: 18080, containerPort: 80, protocol: "TCP" }],
        podName: "default/e",
      })
      .catch((e) => e);
    expect(err.reason).toBe("HostPortConflict");
    expect(err.message).toContain("18080/TCP");
    expect(err.message).toContain("default/d");
    expect(existsSync("/run/netns/minikt-pode")).toBe(false);
    expect((await net.list()).map((p) => p.podUid)).not.toContain("pod-e");
    await net.teardown("pod-d");
    expect(await getFromHost("http://127.0.0.1:18080/", 1000)).toBeUndefined();
    expect(existsSync(d.netnsPath)).toBe(false);
    // by netlink, while the pod's server still holds the namespace: the veth pair is gone at once
    expect(existsSync("/sys/class/net/vmtpodd")).toBe(false);
    await net.teardown("pod-d"); // a second teardown finds nothing and is no error
  });

  test("dialPod opens a TCP connection to a pod port (port-forward), and names the target when refused", async () => {
    const conn = await dialPod(a.ip, 80);
    const writer = conn.writable.getWriter();
    await writer.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    const text = await new Response(conn.readable).text();
    expect(text).toContain("200 OK");
    expect(text.endsWith("pod-a")).toBe(true);
    conn.close();
    const err = await dialPod(a.ip, 81).catch((e) => e);
    expect(err.message).toContain(`${a.ip}:81`);
  });

  test("reconcile removes namespaces, veths and addresses of pods that no longer exist", async () => {
    const removed = await net.reconcile(["pod-a", "pod-b"]);
    expect(removed).toContain("pod-c");
    expect(existsSync(c.netnsPath)).toBe(false);
    expect(existsSync("/sys/class/net/vmtpodc")).toBe(false);
    expect((await net.list()).map((p) => p.podUid).sort()).toEqual(["pod-a", "pod-b"]);
  });

  test("cleanupAll leaves no trace in ip link, ip netns and nft", async () => {
    for (const s of servers.splice(0)) await s.stop();
    await net.cleanupAll();
    await proxy.cleanup();
    const links = (await run(["ip", "-o", "link"])).stdout;
    expect(links).not.toContain(BRIDGE);
    expect(links).not.toContain("vmt");
    expect((await run(["ip", "netns", "list"])).stdout).not.toContain("minikt-");
    expect((await run(["nft", "list", "tables"])).stdout).not.toContain(TABLE);
    expect((await run(["ip", "route"])).stdout).not.toContain("10.251.0.0");
  });
});

async function removeLeftovers(): Promise<void> {
  await run(["nft", "delete", "table", "ip", TABLE]);
  const ns = (await run(["ip", "netns", "list"])).stdout
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith("minikt-"));
  for (const n of ns) await run(["ip", "netns", "del", n]);
  await run(["ip", "link", "del", BRIDGE]);
}
