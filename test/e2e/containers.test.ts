import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, type Daemon, freePort, nodeDataDir, removeDir, startDaemon } from "./daemon.ts";

const MANIFEST = join(import.meta.dir, "../../examples/nginx-deployment.yaml");

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  type: NodePort
  selector:
    app: nginx-server
  ports:
  - port: 80
    targetPort: 80
`;

const CLIENT_POD = `apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: sh
    image: IMAGE
    command: ["sleep", "3600"]
  terminationGracePeriodSeconds: 0
`;

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e containers", "needs root and crun") ||
  skipUnless(!!testImages, "e2e containers", testImagesMissing);

interface PodJson {
  metadata: { name: string; uid: string };
  status: {
    phase: string;
    podIP?: string;
    containerStatuses?: { containerID?: string; restartCount: number; ready: boolean }[];
  };
}

/**
 * Issue 2–4's "done when" through the compiled binary on real containers: the article's manifest
 * with nginx:1.7.9 served from a local mirror gives two Running pods in their own namespaces,
 * reachable by pod IP, through a NodePort on 127.0.0.1, and by DNS name from another pod; a
 * `kill -9` of minik leaves them running, adopted, not duplicated, by the next `minik up`.
 */
describe.skipIf(skip)("compiled binary: real containers", () => {
  let d: Daemon;
  let dataDir: string;
  const pods = async (selector = "app=nginx-server") =>
    (await d.getJson(["pods", "-l", selector])).items as PodJson[];

  beforeAll(async () => {
    dataDir = nodeDataDir("ctr");
    d = await startDaemon([], dataDir);
  }, 30_000);
  afterAll(async () => {
    if (d) {
      await d.minik(["delete", "-f", MANIFEST, "--ignore-not-found", "--grace-period", "0"]);
      await d.minik(["delete", "pod", "client", "--ignore-not-found", "--grace-period", "0"]);
      await d.minik(["delete", "service", "nginx", "--ignore-not-found"]);
      await d.stop();
    }
    removeDir(dataDir);
  }, 60_000);

  test("two Running replicas of nginx:1.7.9 from the mirror, each in its own namespaces", async () => {
    expect((await d.minik(["apply", "-f", MANIFEST])).code).toBe(0);
    const running = await waitFor(
      async () => {
        const items = await pods();
        return items.length === 2 && items.every((p) => p.status.phase === "Running" && p.status.podIP)
          ? items
          : undefined;
      },
      { timeoutMs: 30_000, what: "two Running pods" },
    );
    const deploy = await d.minik(["get", "deployments"]);
    expect(deploy.stdout).toMatch(/nginx-deployment\s+2\/2\s+2\s+2/);
    for (const p of running) {
      const body = await (await fetch(`http://${p.status.podIP}/cgi-bin/host`)).text();
      expect(body.trim()).toBe(`host=${p.metadata.name}`);
      const id = p.status.containerStatuses![0]!.containerID!.replace(/^crun:\/\//, "");
      const record = JSON.parse(readFileSync(join(dataDir, "containers", id, "container.json"), "utf8"));
      for (const ns of ["pid", "net", "ipc", "uts", "mnt"]) {
        expect(readlinkSync(`/proc/${record.pid}/ns/${ns}`)).not.toBe(readlinkSync(`/proc/self/ns/${ns}`));
      }
      // the cgroup lives under minik's own cgroup
      expect(readFileSync(`/proc/${record.pid}/cgroup`, "utf8")).toContain(`/minik/${p.metadata.uid}/`);
    }
  });

  test("a NodePort Service on 127.0.0.1 spreads requests over both replicas, and pods find it by name", async () => {
    const svcFile = join(dataDir, "svc.yaml");
    writeFileSync(svcFile, SERVICE);
    expect((await d.minik(["apply", "-f", svcFile])).code).toBe(0);
    const svc = JSON.parse((await d.minik(["get", "service", "nginx", "-o", "json"])).stdout);
    const nodePort = svc.spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const names = (await pods()).map((p) => p.metadata.name);
    const seen = await waitFor(
      async () => {
        const hits = new Set<string>();
        for (let i = 0; i < 40; i++) {
          const r = await fetch(`http://127.0.0.1:${nodePort}/cgi-bin/host`, {
            signal: AbortSignal.timeout(2000),
          }).catch(() => undefined);
          const text = (await r?.text())?.trim();
          if (text) hits.add(text.replace(/^host=/, ""));
        }
        return names.every((n) => hits.has(n)) ? hits : undefined;
      },
      { timeoutMs: 20_000, what: "both replicas answering through the NodePort" },
    );
    expect([...seen].sort()).toEqual([...names].sort());

    const clientFile = join(dataDir, "client.yaml");
    writeFileSync(
      clientFile,
      CLIENT_POD.replace("IMAGE", `${testImages!.registries.plain.host}/minik-test/busybox:1`),
    );
    expect((await d.minik(["apply", "-f", clientFile])).code).toBe(0);
    await waitFor(
      async () =>
        (await pods("!app")).some((p) => p.metadata.name === "client" && p.status.phase === "Running"),
      {
        timeoutMs: 30_000,
        what: "client pod Running",
      },
    );
    const byName = new Set<string>();
    for (let i = 0; i < 12 && byName.size < 2; i++) {
      const r = await d.minik(["exec", "client", "--", "wget", "-qO-", "http://nginx/cgi-bin/host"]);
      expect(r.stderr).toBe("");
      byName.add(r.stdout.trim().replace(/^host=/, ""));
    }
    expect([...byName].sort()).toEqual([...names].sort());
  });

  test("minik port-forward and kubectl port-forward carry HTTP requests to a pod", async () => {
    const [first] = await pods();
    const local = await freePort();
    const pf = Bun.spawn([BINARY, "port-forward", `pod/${first!.metadata.name}`, `${local}:80`], {
      env: d.env,
      stdout: "pipe",
    });
    try {
      const text = await waitFor(
        async () => (await fetch(`http://127.0.0.1:${local}/cgi-bin/host`).catch(() => undefined))?.text(),
        { what: "minik port-forward answering" },
      );
      expect(text.trim()).toBe(`host=${first!.metadata.name}`);
    } finally {
      pf.kill();
    }
    const kport = await freePort();
    const kpf = Bun.spawn(
      [
        "kubectl",
        "--kubeconfig",
        join(dataDir, "kubeconfig"),
        "--cache-dir",
        join(dataDir, "kcache"),
        "port-forward",
        `pod/${first!.metadata.name}`,
        `${kport}:80`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const text = await waitFor(
        async () => (await fetch(`http://127.0.0.1:${kport}/cgi-bin/host`).catch(() => undefined))?.text(),
        { what: "kubectl port-forward answering", timeoutMs: 15_000 },
      );
      expect(text.trim()).toBe(`host=${first!.metadata.name}`);
    } finally {
      kpf.kill();
    }
  }, 60_000);

  test("kill -9 of minik: the next minik up adopts the same containers, none duplicated", async () => {
    const before = (await pods())
      .map((p) => [p.metadata.name, p.status.containerStatuses![0]!.containerID])
      .sort();
    await d.stop("SIGKILL");
    d = await startDaemon([], dataDir);
    await waitFor(async () => (await pods()).every((p) => p.status.containerStatuses?.[0]?.ready), {
      what: "pods ready again",
    });
    const after = (await pods())
      .map((p) => [p.metadata.name, p.status.containerStatuses![0]!.containerID])
      .sort();
    expect(after).toEqual(before);
    for (const p of await pods()) expect(p.status.containerStatuses![0]!.restartCount).toBe(0);
  });

  test("deleting the workload removes its containers, network namespaces and veths", async () => {
    const uids = [...(await pods()), ...(await pods("!app"))].map((p) => p.metadata.uid);
    expect(uids.length).toBe(3);
    const names = (await pods()).map((p) => p.metadata.name);
    await d.minik(["delete", "-f", MANIFEST, "--wait=false"]);
    // busybox httpd ignores SIGTERM: skip the 30 s grace the garbage collector's delete would give
    await d.minik(["delete", "pod", ...names, "client", "--grace-period", "0", "--ignore-not-found"]);
    await waitFor(async () => (await pods()).length === 0 && (await pods("!app")).length === 0, {
      what: "pods gone",
    });
    // pods deleted with grace 0 are torn down by the agent right after they leave the store
    await waitFor(
      () => {
        const netns = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
        const links = Bun.spawnSync(["ip", "-o", "link"]).stdout.toString();
        return uids.every((uid) => {
          const short = uid.replace(/-/g, "").slice(0, 12);
          return !netns.includes(short) && !links.includes(short) && !existsSync(join(dataDir, "pods", uid));
        });
      },
      { timeoutMs: 45_000, what: "pod network namespaces, veths and pod dirs to go" },
    );
  }, 90_000);
});
