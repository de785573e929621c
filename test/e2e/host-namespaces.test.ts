import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { DEFAULT_BRIDGE, DEFAULT_VETH_PREFIX } from "../../runtime/net/pod-network.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import {
  BINARY,
  type Daemon,
  freePort,
  kubectl as kubectlOn,
  nodeDataDir,
  removeDir,
  startExclusive,
} from "./daemon.ts";

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e host namespaces", "needs root and crun") ||
  skipUnless(!!testImages, "e2e host namespaces", testImagesMissing) ||
  skipUnless(Bun.which("kubectl") !== null, "e2e host namespaces", "needs /usr/bin/kubectl");

const busybox = () => `${testImages!.registries.plain.host}/minik-test/busybox:1`;

/** A node-exporter-like pod on the host's network and PID namespace, serving on the host's `port`. */
const exporter = (name: string, port: number) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {test: host-ns}}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: exporter
    image: ${busybox()}
    ports: [{containerPort: ${port}}]
    command: [sh, -c, "cat /proc/net/dev; echo pid1=$(cat /proc/1/comm); echo host=$(hostname); mkdir -p /www; echo metrics > /www/index.html; exec httpd -f -p ${port} -h /www"]
`;

/** A hostNetwork pod that prints its resolv.conf and looks the API's Service up, then ends. */
const dnsProbe = (name: string, dnsPolicy?: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {test: host-ns}}
spec:
  hostNetwork: true
  restartPolicy: Never
  ${dnsPolicy ? `dnsPolicy: ${dnsPolicy}` : ""}
  containers:
  - name: dns
    image: ${busybox()}
    command: [sh, -c, "cat /etc/resolv.conf; echo ---; nslookup kubernetes.default.svc.cluster.local || true"]
`;

const nameservers = (text: string) => text.split("\n").filter((l) => l.startsWith("nameserver "));

/** The host's interfaces but minik's own (its bridge and pod veths come and go with minik). */
function hostInterfaces(): string[] {
  return readdirSync("/sys/class/net")
    .filter((n) => n !== DEFAULT_BRIDGE && !n.startsWith(DEFAULT_VETH_PREFIX))
    .sort();
}

const defaultRoute = () => Bun.spawnSync(["ip", "route", "show", "default"]).stdout.toString();

/**
 * Issue 12's hostNetwork/hostPID/hostIPC pods on real containers through the compiled binary: the
 * pod sees the host's interfaces (minik's bridge among them), the host's PID 1 and hostname, serves
 * on the host's port, reports the node's address as its IP; a second pod wanting the same port
 * stays Pending with a FailedScheduling event naming it; deleting the pod and `minik reset` leave
 * every interface and the default route of the host as they were.
 */
describe.skipIf(skip)("compiled binary: pods on the host's namespaces", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  let port: number;
  const interfacesBefore = hostInterfaces();
  const routeBefore = defaultRoute();
  const kubectl = (...args: string[]) => kubectlOn(dataDir, args);
  const apply = (yaml: string) => kubectlOn(dataDir, ["apply", "-f", "-"], yaml);
  const pod = async (name: string) => JSON.parse((await kubectl("get", "pod", name, "-o", "json")).stdout);

  beforeAll(async () => {
    dataDir = nodeDataDir("hostns");
    d = await startExclusive(dataDir);
    port = await freePort();
    const applied = await apply(exporter("exporter", port));
    expect(applied.stderr).toBe("");
  }, 60_000);
  afterAll(async () => {
    if (d) await d.stop();
    if (dataDir && existsSync(dataDir)) {
      Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
      removeDir(dataDir);
    }
  }, 90_000);

  test("the pod sees the host's interfaces, PID 1 and hostname, serves on the host's port, has the node's IP", async () => {
    const wait = await kubectl("wait", "--for=condition=Ready", "pod/exporter", "--timeout=90s");
    expect(wait.stdout).toBe("pod/exporter condition met\n");
    const p = await pod("exporter");
    expect(p.status.podIP).toBe(p.status.hostIP);
    expect(p.status.podIPs).toEqual([{ ip: p.status.hostIP }]);
    // the API defaulted the hostPort from the containerPort, as for any hostNetwork pod
    expect(p.spec.containers[0].ports[0]).toMatchObject({ containerPort: port, hostPort: port });
    const logs = await waitFor(async () => {
      const out = (await kubectl("logs", "exporter")).stdout;
      return out.includes("host=") ? out : undefined;
    });
    const devices = logs
      .split("\n")
      .map((l) => /^\s*([^\s:]+):/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    expect(devices).toContain(DEFAULT_BRIDGE);
    for (const name of interfacesBefore) expect(devices).toContain(name);
    expect(logs).toContain(`pid1=${readFileSync("/proc/1/comm", "utf8").trim()}\n`);
    expect(logs).toContain(`host=${hostname()}\n`);
    const served = await waitFor(() =>
      fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.text(),
        () => undefined,
      ),
    );
    expect(served).toBe("metrics\n");
    // the pod's namespaces are the host's own, read back by minik inspect
    const inspect = JSON.parse((await d!.minik(["inspect", "pod/exporter", "-o", "json"])).stdout);
    const shared = (type: string) =>
      inspect.containers?.[0]?.namespaces?.find((n: { type: string }) => n.type === type)?.sharedWith ??
      inspect.namespaces?.find((n: { type: string }) => n.type === type)?.sharedWith;
    for (const type of ["net", "pid", "ipc", "uts"]) expect(shared(type)).toBe("host");
  }, 120_000);

  test("a second pod wanting the same port stays Pending; the FailedScheduling event names the port", async () => {
    expect((await apply(exporter("exporter-2", port))).code).toBe(0);
    const event = await waitFor(
      async () => {
        const out = (
          await kubectl("get", "events", "--field-selector", "involvedObject.name=exporter-2", "-o", "json")
        ).stdout;
        return JSON.parse(out).items.find((e: { reason: string }) => e.reason === "FailedScheduling");
      },
      { timeoutMs: 30_000, what: "FailedScheduling for exporter-2" },
    );
    expect(event.message).toContain(
      `node(s) didn't have free ports for the requested pod ports (${port}/TCP is in use by pod default/exporter)`,
    );
    expect((await pod("exporter-2")).status.phase).toBe("Pending");
    // a hostPort other than the containerPort is refused up front, naming the field
    const bad = await apply(
      exporter("exporter-3", port).replace(`containerPort: ${port}}`, `containerPort: ${port}, hostPort: 1}`),
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      "spec.containers[0].ports[0].hostPort: Invalid value: 1: must match `containerPort` when `hostNetwork` is true",
    );
    await kubectl("delete", "pod", "exporter-2", "--grace-period=0", "--force");
  }, 60_000);

  test("dnsPolicy on the host network: ClusterFirstWithHostNet asks the cluster DNS, ClusterFirst means the host's resolver", async () => {
    expect((await apply(dnsProbe("dns-cluster", "ClusterFirstWithHostNet"))).code).toBe(0);
    expect((await apply(dnsProbe("dns-host"))).code).toBe(0);
    for (const name of ["dns-cluster", "dns-host"]) {
      await waitFor(async () => (await pod(name)).status?.phase === "Succeeded", {
        timeoutMs: 60_000,
        what: `${name} to finish`,
      });
    }
    const apiIP = JSON.parse((await kubectl("get", "service", "kubernetes", "-o", "json")).stdout).spec
      .clusterIP;
    const [cluster, lookup] = (await kubectl("logs", "dns-cluster")).stdout.split("---\n");
    expect(cluster).toContain("search default.svc.cluster.local svc.cluster.local cluster.local\n");
    expect(cluster).toContain("options ndots:5\n");
    expect(lookup).toContain(apiIP);
    const [hostConf] = (await kubectl("logs", "dns-host")).stdout.split("---\n");
    expect(nameservers(hostConf!)).toEqual(nameservers(readFileSync("/etc/resolv.conf", "utf8")));
    expect(hostConf).not.toContain("svc.cluster.local");
  }, 90_000);

  test("deleting the pod and minik reset leave the host's interfaces and default route alone", async () => {
    const netnsBefore = statSync("/proc/self/ns/net").ino;
    expect((await kubectl("delete", "pod", "exporter", "--wait=true", "--timeout=60s")).code).toBe(0);
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/`).then(
          () => undefined,
          () => true,
        ),
      {
        what: "the exporter to stop serving",
      },
    );
    expect(hostInterfaces()).toEqual(interfacesBefore);
    expect(defaultRoute()).toBe(routeBefore);
    expect(existsSync(`/sys/class/net/${DEFAULT_BRIDGE}`)).toBe(true);

    // one more left running when minik stops, then reset
    const again = await apply(exporter("exporter", port));
    expect(again.code).toBe(0);
    await kubectl("wait", "--for=condition=Ready", "pod/exporter", "--timeout=90s");
    await d!.stop();
    d = undefined;
    const reset = await waitFor(
      () => {
        const run = Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir]);
        return run.exitCode === 0 || !/another minik up/.test(run.stderr.toString()) ? run : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1000, what: "minik reset (another minik up on this machine)" },
    );
    expect(reset.stderr.toString()).toBe("");
    expect(reset.stdout.toString()).toContain("removed pod default/exporter");
    expect(hostInterfaces()).toEqual(interfacesBefore);
    expect(defaultRoute()).toBe(routeBefore);
    expect(statSync("/proc/self/ns/net").ino).toBe(netnsBefore);
    expect(
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => "served",
        () => "refused",
      ),
    ).toBe("refused");
  }, 240_000);
});
