import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";
import { run } from "./exec.ts";
import { createIpam } from "./ipam.ts";
import { createNodeNetwork, type NodeNetwork, removeNodeNetwork } from "./node-network.ts";
import { createPodNetwork } from "./pod-network.ts";
import { getFromHost, nslookup, startHttpd, type TestHttpd } from "./testing/test-hosts.ts";

const names = {
  bridge: "minikt2",
  table: "minik_test2",
  podCidr: "10.254.0.0/24",
  serviceCidr: "10.255.0.0/24",
  netnsPrefix: "miniktn-",
  vethPrefix: "vmn",
};

describe.skipIf(
  skipUnless(host.canUseNetns && host.canUseNftables, "node network", "needs root, ip and nft"),
)("node network across a restart", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "minik-net-"));
  let first: NodeNetwork | undefined;
  let second: NodeNetwork | undefined;
  let httpd: TestHttpd | undefined;

  afterAll(async () => {
    await httpd?.stop();
    await (second ?? first)?.cleanupAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a restart keeps live pods' addresses (even with the IPAM file lost) and hostPorts, and removes what dead pods left", async () => {
    first = await createNodeNetwork({ dataDir, ...names });
    const live = await first.podNetwork.setup("live-pod", {
      hostPorts: [{ hostPort: 18090, containerPort: 80, protocol: "TCP" }],
      podName: "default/live",
    });
    const dead = await first.podNetwork.setup("dead-pod", {
      hostPorts: [{ hostPort: 18092, containerPort: 80, protocol: "TCP" }],
    });
    httpd = await startHttpd(live.netnsPath, "live");
    const svc = { key: "default/web:http", clusterIP: "10.255.0.30", port: 80, protocol: "TCP" as const };
    await first.proxy.sync([{ ...svc, endpoints: [{ ip: live.ip, port: 80 }] }]);
    await waitFor(() => getFromHost("http://127.0.0.1:18090/").then((b) => b === "live"), {
      what: "hostPort",
    });
    expect(await getFromHost("http://10.255.0.30/")).toBe("live");
    first.stop(); // a crash: nothing torn down
    // ...and the saved allocations lost: reconcile must read the live pod's address back.
    writeFileSync(join(dataDir, "network", "ipam.json"), "{}");

    second = await createNodeNetwork({ dataDir, ...names });
    expect(await second.podNetwork.reconcile(["live-pod"])).toEqual(["miniktn-deadpod"]);
    expect(existsSync(dead.netnsPath)).toBe(false);
    // Until its first sync the new proxy leaves the old table alone: Services keep working.
    expect(await getFromHost("http://10.255.0.30/")).toBe("live");
    expect(second.ipam.lookup("live-pod")).toBe(live.ip);
    expect(await second.podNetwork.setup("another")).not.toMatchObject({ ip: live.ip });
    // The proxy's first sync after the restart still carries the live pod's hostPort.
    await second.proxy.sync([]);
    expect(await getFromHost("http://127.0.0.1:18090/")).toBe("live");
    expect(await getFromHost("http://127.0.0.1:18092/", 500)).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dataDir, "network", "ipam.json"), "utf8"))["live-pod"]).toBe(live.ip);
  });

  test("a DNS ClusterIP can be served by the proxy: Service → the DNS server on the gateway", async () => {
    const net = second!;
    await net.startDns((ns, name) =>
      ns === "default" && name === "web" ? { ips: ["10.255.0.20"] } : undefined,
    );
    await net.proxy.sync([
      {
        key: "kube-system/kube-dns:dns",
        clusterIP: "10.255.0.10",
        port: 53,
        protocol: "UDP",
        endpoints: [{ ip: net.dnsAddress, port: 53 }],
      },
    ]);
    const pod = (await net.podNetwork.list()).find((p) => p.podUid === "live-pod")!;
    for (const server of [net.dnsAddress, "10.255.0.10"]) {
      const out = await nslookup(pod.netnsPath, server, "web.default.svc.cluster.local");
      expect(out).toContain("10.255.0.20");
    }
  });

  test("removeNodeNetwork clears a crashed node without its state", async () => {
    const crashedDir = mkdtempSync(join(tmpdir(), "minik-net-"));
    const crashed = await createNodeNetwork({
      dataDir: crashedDir,
      ...names,
      bridge: "minikt5",
      table: "minik_test5",
      netnsPrefix: "miniktr-",
      vethPrefix: "vmr",
    });
    await crashed.podNetwork.setup("orphan", {
      hostPorts: [{ hostPort: 18091, containerPort: 80, protocol: "TCP" }],
    });
    crashed.stop();
    await removeNodeNetwork({
      dataDir: crashedDir,
      bridge: "minikt5",
      table: "minik_test5",
      netnsPrefix: "miniktr-",
      vethPrefix: "vmr",
    });
    expect((await run(["ip", "-o", "link"])).stdout).not.toMatch(/minikt5|vmr/);
    expect((await run(["ip", "netns", "list"])).stdout).not.toContain("miniktr-");
    expect((await run(["nft", "list", "tables"])).stdout).not.toContain("minik_test5");
    expect(existsSync(join(crashedDir, "network"))).toBe(false);
    rmSync(crashedDir, { recursive: true, force: true });
  });

  test("cleanupAll leaves no trace in ip link, ip netns, nft and the saved state", async () => {
    await httpd?.stop();
    httpd = undefined;
    await second!.cleanupAll();
    expect((await run(["ip", "-o", "link"])).stdout).not.toMatch(/minikt2|vmn/);
    expect((await run(["ip", "netns", "list"])).stdout).not.toContain("miniktn-");
    expect((await run(["nft", "list", "tables"])).stdout).not.toContain("minik_test2");
    expect(JSON.parse(readFileSync(join(dataDir, "network", "ipam.json"), "utf8"))).toEqual({});
    expect(JSON.parse(readFileSync(join(dataDir, "network", "hostports.json"), "utf8"))).toEqual({});
  });
});

describe.skipIf(skipUnless(host.canUseNetns, "pod network exhaustion", "needs root and ip"))(
  "pod network bad input",
  () => {
    test("an exhausted pod CIDR is a RuntimeError naming the pod and the range, leaving nothing behind", async () => {
      const ipam = await createIpam({ cidr: "10.249.0.0/30" });
      const net = createPodNetwork({
        ipam,
        bridge: "minikt3",
        serviceCidr: "10.249.1.0/30",
        netnsPrefix: "miniktx-",
        vethPrefix: "vmx",
      });
      try {
        await net.setup("first");
        const err = await net.setup("second", { podName: "default/second" }).catch((e) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect(err.reason).toBe("CreatePodSandboxError");
        expect(err.message).toContain("pod default/second");
        expect(err.message).toContain("10.249.0.0/30");
        expect(existsSync("/run/netns/miniktx-second")).toBe(false);
        expect((await net.list()).map((p) => p.podUid)).toEqual(["first"]);
      } finally {
        await net.cleanupAll();
      }
    });
  },
);

describe.skipIf(
  skipUnless(host.canUseNetns && host.canUseNftables, "node network lock", "needs root, ip and nft"),
)("one minik per bridge", () => {
  test("a second minik on a bridge in use stops before touching anything; a dead holder is taken over", async () => {
    const lockDir = mkdtempSync(join(tmpdir(), "minik-lock-"));
    const dataDir = mkdtempSync(join(tmpdir(), "minik-net-"));
    const opts = {
      dataDir,
      lockDir,
      ...names,
      bridge: "minikt6",
      table: "minik_test6",
      netnsPrefix: "miniktl-",
      vethPrefix: "vml",
    };
    const holder = Bun.spawn(["sleep", "30"]);
    writeFileSync(join(lockDir, "minikt6.pid"), `${holder.pid}\n`);
    try {
      const err = await createNodeNetwork(opts).catch((e) => e);
      expect(err.message).toContain(`bridge minikt6 is in use by another minik up (pid ${holder.pid})`);
      expect(existsSync("/sys/class/net/minikt6")).toBe(false);
      holder.kill();
      await holder.exited;
      const net = await createNodeNetwork(opts);
      expect(readFileSync(join(lockDir, "minikt6.pid"), "utf8").trim()).toBe(String(process.pid));
      await net.cleanupAll();
      expect(existsSync(join(lockDir, "minikt6.pid"))).toBe(false);
    } finally {
      holder.kill();
      rmSync(lockDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
