import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { policyTableOf } from "../../runtime/net/nft-policy-ruleset.ts";
import { DEFAULT_NFT_TABLE } from "../../runtime/net/nft-proxy.ts";
import { DEFAULT_NETNS_PREFIX, shortId } from "../../runtime/net/pod-network.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing, testRegistriesYaml } from "../support/registry.ts";
import { BINARY, type Daemon, removeDir, startExclusive } from "./daemon.ts";

/**
 * Issue 14 through the compiled binary on real containers: NetworkPolicies enforced by the node's
 * nftables table. Pods a (app=web), b (app=client) and c (app=other): a default-deny ingress
 * policy blocks b→a, an allow rule from app=client reopens b→a but not c→a, an egress default
 * deny blocks a→b (and DNS until a DNS rule allows it), the node keeps reaching every pod, deleting
 * the policies restores everything, and no rule is left behind. Also: a pod that routes 127/8
 * to the node cannot reach a host service bound to 127.0.0.1.
 */

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e network policy", "needs root and crun") ||
  skipUnless(!!testImages, "e2e network policy", testImagesMissing);

const image = () => `${testImages!.registries.plain.host}/minik-test/httpd:1`;
const POLICY_TABLE = policyTableOf(DEFAULT_NFT_TABLE);

// A readiness probe every second that fails at the first miss: the node's probes must keep
// reaching pods whatever the policies say.
const POD = (name: string, app: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${app}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: ${image()}
    ports:
    - {name: http, containerPort: 80}
    readinessProbe:
      httpGet: {path: /, port: http}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 1
`;

const DENY_INGRESS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
`;

const ALLOW_CLIENT = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-client
spec:
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - podSelector:
        matchLabels: {app: client}
    ports:
    - {port: http}
`;

const DENY_EGRESS_WEB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-deny-egress
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Egress]
`;

const ALLOW_DNS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
`;

interface PodJson {
  metadata: { name: string; uid: string };
  status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

const isReady = (p: PodJson) =>
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** One GET from the test process (the node), no connection reuse. */
async function getFromNode(ip: string): Promise<string | undefined> {
  const r = await fetch(`http://${ip}/cgi-bin/host`, {
    keepalive: false,
    headers: { connection: "close" },
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  return r?.ok ? (await r.text()).trim() : undefined;
}

const nftTable = () => {
  const r = Bun.spawnSync(["nft", "list", "table", "ip", POLICY_TABLE]);
  return r.exitCode === 0 ? r.stdout.toString() : undefined;
};

describe.skipIf(skip)("compiled binary: NetworkPolicy on real containers", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  const ips: Record<string, string> = {};
  const minik = (args: string[]) => d!.minik(args);
  const applyText = async (name: string, text: string) => {
    const file = join(dataDir, `${name}.yaml`);
    writeFileSync(file, text);
    const r = await minik(["apply", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  };
  const deletePolicies = async (...names: string[]) => {
    const r = await minik(["delete", "networkpolicy", ...names, "--ignore-not-found"]);
    expect(r.code).toBe(0);
  };
  /** `from` fetches a page of `to` with busybox wget; true when it answered as itself. */
  const reaches = async (from: string, to: string) => {
    // busybox 1.35's `wget -T` crashes: its `timeout` applet bounds a dropped connection instead.
    const r = await minik([
      "exec",
      from,
      "--",
      "timeout",
      "3",
      "wget",
      "-qO-",
      `http://${ips[to]}/cgi-bin/host`,
    ]);
    return r.code === 0 && r.stdout.trim() === `host=${to}`;
  };
  /** Ready now: with failureThreshold 1, one probe blocked by a policy would have made it unready. */
  const ready = async (name: string) =>
    isReady(JSON.parse((await minik(["get", "pod", name, "-o", "json"])).stdout) as PodJson);
  const resolves = async (from: string) =>
    (await minik(["exec", from, "--", "timeout", "3", "nslookup", "kubernetes.default.svc.cluster.local"]))
      .code === 0;
  /** Waits until `from`→`to` is (or is not) allowed: the controller applies changes asynchronously. */
  const expectReach = (from: string, to: string, allowed: boolean) =>
    waitFor(async () => (await reaches(from, to)) === allowed, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${from}→${to} to be ${allowed ? "allowed" : "blocked"}`,
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "minik-e2e-netpol-"));
    writeFileSync(join(dataDir, "registries.yaml"), testRegistriesYaml());
    d = await startExclusive(dataDir);
    await applyText("pods", [POD("a", "web"), POD("b", "client"), POD("c", "other")].join("---\n"));
    await waitFor(
      async () => {
        const pods = JSON.parse((await minik(["get", "pods", "-o", "json"])).stdout).items as PodJson[];
        for (const p of pods) if (p.status.podIP) ips[p.metadata.name] = p.status.podIP;
        if (pods.length !== 3 || !pods.every((p) => p.status.phase === "Running" && p.status.podIP))
          return false;
        // httpd listening, as the node sees it
        for (const name of ["a", "b", "c"])
          if ((await getFromNode(ips[name]!)) !== `host=${name}`) return false;
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: "pods a, b, c Ready and serving" },
    );
  }, 240_000);

  afterAll(async () => {
    if (d) {
      await minik(["delete", "networkpolicies", "--all"]).catch(() => {});
      await minik(["delete", "pod", "a", "b", "c", "--grace-period", "0", "--ignore-not-found"]).catch(
        () => {},
      );
      await d.stop();
    }
    if (dataDir && existsSync(dataDir)) {
      Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
      removeDir(dataDir);
    }
    // reset removes the policy table with the rest of the node network
    expect(nftTable()).toBeUndefined();
  }, 90_000);

  test("without policies every pod reaches every pod", async () => {
    expect(await reaches("b", "a")).toBe(true);
    expect(await reaches("c", "a")).toBe(true);
    expect(await reaches("a", "b")).toBe(true);
  }, 60_000);

  test("a default-deny ingress policy blocks b→a; the node still reaches a (probes)", async () => {
    await applyText("deny", DENY_INGRESS);
    await expectReach("b", "a", false);
    expect(await reaches("c", "a")).toBe(false);
    expect(await getFromNode(ips.a!)).toBe("host=a");
    // several probe periods have passed while b→a was being found blocked
    expect(await ready("a")).toBe(true);
    const table = (await minik(["get", "networkpolicies"])).stdout;
    expect(table).toMatch(/^NAME\s+POD-SELECTOR\s+AGE$/m);
    expect(table).toMatch(/^default-deny-ingress\s+<none>\s+\d+s$/m);
  }, 60_000);

  test("an allow rule from app=client (named port) reopens b→a but not c→a", async () => {
    await applyText("allow", ALLOW_CLIENT);
    await expectReach("b", "a", true);
    expect(await reaches("c", "a")).toBe(false);
    // a itself is isolated, so its replies pass only as part of allowed connections: b→a works
    // repeatedly, and c→b stays blocked by the default deny.
    expect(await reaches("b", "a")).toBe(true);
    expect(await reaches("c", "b")).toBe(false);
  }, 60_000);

  test("an egress default deny blocks a→b and DNS until a DNS rule allows it", async () => {
    await deletePolicies("default-deny-ingress", "web-from-client");
    await expectReach("a", "b", true);
    expect(await resolves("a")).toBe(true);
    await applyText("egress", DENY_EGRESS_WEB);
    await expectReach("a", "b", false);
    expect(await resolves("a")).toBe(false);
    // probes are the node's connections: a's replies to them are not egress
    expect(await ready("a")).toBe(true);
    // only a is egress-isolated
    expect(await reaches("c", "b")).toBe(true);
    expect(await reaches("b", "a")).toBe(true);
    await applyText("dns", ALLOW_DNS);
    await waitFor(() => resolves("a"), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: "DNS allowed again for a",
    });
    expect(await reaches("a", "b")).toBe(false);
  }, 90_000);

  test("deleting the policies restores everything and leaves no isolation behind", async () => {
    await deletePolicies("web-deny-egress", "allow-dns");
    await expectReach("a", "b", true);
    expect(await reaches("b", "a")).toBe(true);
    expect(await reaches("c", "a")).toBe(true);
    const table = nftTable() ?? "";
    expect(table).toContain("set ingress_isolated");
    for (const ip of Object.values(ips)) expect(table).not.toContain(ip);
  }, 60_000);

  test("a pod routing 127.0.0.1 to the node does not reach a host service bound to 127.0.0.1", async () => {
    const gateway = "10.88.0.1";
    const secret = "loopback-only";
    const serve = (hostname: string) => Bun.serve({ hostname, port: 0, fetch: () => new Response(secret) });
    const loopback = serve("127.0.0.1");
    const onBridge = serve(gateway);
    try {
      const pod = JSON.parse((await minik(["get", "pod", "c", "-o", "json"])).stdout) as PodJson;
      const netns = `${DEFAULT_NETNS_PREFIX}${shortId(pod.metadata.uid)}`;
      const inPod = (cmd: string[]) => Bun.spawnSync(["ip", "netns", "exec", netns, ...cmd]);
      // What a pod with NET_ADMIN could do (CVE-2020-8558): send 127.0.0.1 out of eth0 to the node.
      for (const cmd of [
        ["sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1"],
        ["ip", "route", "add", "127.0.0.1/32", "via", gateway, "dev", "eth0", "table", "100"],
        ["ip", "rule", "add", "pref", "50", "to", "127.0.0.1", "lookup", "100"],
        // the local table (pref 0) would deliver 127.0.0.1 to the pod's own lo first
        ["ip", "rule", "add", "pref", "100", "lookup", "local"],
        ["ip", "rule", "del", "pref", "0", "lookup", "local"],
      ]) {
        const r = inPod(cmd);
        expect(r.stderr.toString()).toBe("");
      }
      // Asynchronous: the servers answer from this process's event loop.
      const curl = async (url: string) => {
        const proc = Bun.spawn(["ip", "netns", "exec", netns, "curl", "-s", "--max-time", "3", url]);
        return (await new Response(proc.stdout).text()).trim();
      };
      // the path works: the node's bridge address answers
      expect(await curl(`http://${gateway}:${onBridge.port}/`)).toBe(secret);
      expect(await curl(`http://127.0.0.1:${loopback.port}/`)).toBe("");
    } finally {
      loopback.stop(true);
      onBridge.stop(true);
    }
  }, 60_000);
});
