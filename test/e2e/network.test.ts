import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_NFT_TABLE } from "../../runtime/net/nft-proxy.ts";
import { DEFAULT_BRIDGE, DEFAULT_NETNS_PREFIX, DEFAULT_VETH_PREFIX } from "../../runtime/net/pod-network.ts";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing, testRegistriesYaml } from "../support/registry.ts";
import { BINARY, type Daemon, freePort, removeDir, startExclusive } from "./daemon.ts";

/**
 * Issue 4 through the compiled binary on real containers: pod-to-pod and host-to-pod traffic,
 * cluster DNS, ClusterIP spreading and ClientIP affinity, a named targetPort, endpoints that
 * leave rotation before their pod stops serving, hostPorts, nodePort conflicts, no network
 * leftovers after everything is deleted (also across a restart), and `minik reset`.
 */

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e network", "needs root and crun") ||
  skipUnless(!!testImages, "e2e network", testImagesMissing);

const image = (name: string) => `${testImages!.registries.plain.host}/minik-test/${name}`;

const WEB = () => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 4
      containers:
      - name: httpd
        image: ${image("httpd:1")}
        ports:
        - {name: http, containerPort: 80}
        readinessProbe:
          httpGet: {path: /cgi-bin/host, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: sticky
spec:
  sessionAffinity: ClientIP
  selector: {app: web}
  ports:
  - {port: 8080, targetPort: 80}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: sh
    image: ${image("busybox:1")}
    command: ["sleep", "3600"]
`;

const NAMESPACE = (name: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
`;

const DB_SERVICE = (namespace: string) => `apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: ${namespace}
spec:
  ports:
  - {port: 5432}
`;

const HOSTPORT_POD = (name: string, hostPort: number) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {test: hostport}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: ${image("httpd:1")}
    ports:
    - {containerPort: 80, hostPort: ${hostPort}}
`;

const NODEPORT_SVC = (name: string, nodePort: number) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  type: NodePort
  selector: {app: nobody}
  ports:
  - {port: 80, nodePort: ${nodePort}}
`;

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

const ready = (p: PodJson) =>
  p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** One GET, no connection reuse (a kept-alive connection would stay pinned to one endpoint). */
async function get(url: string): Promise<string | undefined> {
  const r = await fetch(url, {
    keepalive: false,
    headers: { connection: "close" },
    signal: AbortSignal.timeout(2000),
  }).catch(() => undefined);
  if (!r?.ok) return undefined;
  return (await r.text()).trim();
}

/** Gone, or a zombie nobody reaps (the container's parent was minik; pid 1 here may not reap). */
function processGone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true;
  }
}

function shortId(uid: string): string {
  return uid.replace(/-/g, "").slice(0, 12);
}

/** What is left on the host of these pods and Services: netns, veths, nft entries. */
function leftovers(uids: string[], serviceIPs: string[], nodePorts: number[]): string[] {
  const netns = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
  const links = Bun.spawnSync(["ip", "-o", "link"]).stdout.toString();
  const nft = Bun.spawnSync(["nft", "list", "table", "ip", DEFAULT_NFT_TABLE]);
  const table = nft.exitCode === 0 ? nft.stdout.toString() : "";
  const out: string[] = [];
  for (const uid of uids) {
    if (netns.includes(shortId(uid))) out.push(`netns of pod ${uid}`);
    if (links.includes(shortId(uid))) out.push(`veth of pod ${uid}`);
  }
  for (const ip of serviceIPs)
    if (new RegExp(`\\b${ip.replaceAll(".", "\\.")}\\b`).test(table)) out.push(`nft entry for ${ip}`);
  for (const port of nodePorts)
    if (new RegExp(`\\b${port}\\b`).test(table)) out.push(`nft entry for nodePort ${port}`);
  return out;
}

describe.skipIf(skip)("compiled binary: pod networking, Services and DNS", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  const minik = (args: string[], stdin?: string) => d!.minik(args, stdin);
  const podsJson = async (selector?: string) =>
    JSON.parse((await minik(["get", "pods", ...(selector ? ["-l", selector] : []), "-o", "json"])).stdout)
      .items as PodJson[];
  const sh = async (script: string) => {
    const r = await minik(["exec", "client", "--", "sh", "-c", script]);
    return { ...r, stdout: r.stdout.trim() };
  };
  const api = async (path: string) => {
    const token = readFileSync(join(dataDir, "token"), "utf8").trim();
    return (
      await fetch(`${d!.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    ).json() as Promise<any>;
  };
  const deleteAllPods = async () => {
    const names = (await podsJson()).map((p) => p.metadata.name);
    return names.length
      ? minik(["delete", "pod", ...names, "--grace-period", "0", "--ignore-not-found"])
      : { code: 0 };
  };
  const svcJson = async (name: string) =>
    JSON.parse((await minik(["get", "service", name, "-o", "json"])).stdout);
  const applyText = async (name: string, text: string) => {
    const file = join(dataDir, `${name}.yaml`);
    writeFileSync(file, text);
    return minik(["apply", "-f", file]);
  };
  // what the clean-up test checks is gone
  const seenUids = new Set<string>();
  const seenServiceIPs = new Set<string>();
  const seenNodePorts = new Set<number>();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "minik-e2e-net-"));
    writeFileSync(join(dataDir, "registries.yaml"), testRegistriesYaml());
    d = await startExclusive(dataDir);
    expect((await applyText("web", WEB())).code).toBe(0);
    await waitFor(
      async () => {
        const web = await podsJson("app=web");
        const client = (await podsJson()).find((p) => p.metadata.name === "client");
        return web.length === 2 && web.every(ready) && client?.status.phase === "Running";
      },
      { timeoutMs: 60_000, what: "two ready web pods and a Running client" },
    );
    for (const p of await podsJson()) seenUids.add(p.metadata.uid);
    for (const s of ["web", "sticky"]) seenServiceIPs.add((await svcJson(s)).spec.clusterIP);
    seenNodePorts.add((await svcJson("web")).spec.ports[0].nodePort);
  }, 240_000);

  afterAll(async () => {
    if (d) {
      await minik(["delete", "deployment", "web", "--ignore-not-found", "--wait=false"]).catch(() => {});
      await deleteAllPods().catch(() => {});
      await minik(["delete", "services", "web", "sticky", "np-a", "--ignore-not-found"]).catch(() => {});
      await d.stop();
    }
    if (dataDir && existsSync(dataDir)) {
      Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
      removeDir(dataDir);
    }
  }, 90_000);

  test("pods reach each other by pod IP, the host reaches pods, and a pod's /etc/hosts lists itself", async () => {
    const web = await podsJson("app=web");
    for (const p of web) {
      expect((await sh(`wget -qO- http://${p.status.podIP}/cgi-bin/host`)).stdout).toBe(
        `host=${p.metadata.name}`,
      );
      expect(await get(`http://${p.status.podIP}/cgi-bin/host`)).toBe(`host=${p.metadata.name}`);
    }
    const client = (await podsJson()).find((p) => p.metadata.name === "client")!;
    const hosts = (await sh("cat /etc/hosts")).stdout;
    expect(hosts).toMatch(new RegExp(`^${client.status.podIP!.replaceAll(".", "\\.")}\\s+client\\b`, "m"));
    expect((await sh("hostname")).stdout).toBe("client");
  }, 30_000);

  test("cluster DNS: <svc>, <svc>.<ns> and the full name resolve to the ClusterIP; unknown names are NXDOMAIN", async () => {
    const ip = (await svcJson("web")).spec.clusterIP as string;
    expect(ip).toMatch(/^10\.96\./);
    // busybox nslookup uses the search list only for names without dots, so `web.default` is
    // checked through the libc resolver (ping prints the address it resolved) and wget
    for (const name of ["web", "web.default.svc.cluster.local"]) {
      expect((await sh(`nslookup ${name}`)).stdout).toContain(`Address: ${ip}`);
    }
    expect((await sh("ping -c1 -W1 web.default 2>&1")).stdout).toContain(`PING web.default (${ip})`);
    for (const name of ["web", "web.default", "web.default.svc.cluster.local"]) {
      expect((await sh(`wget -qO- http://${name}/cgi-bin/host`)).stdout).toMatch(/^host=web-/);
    }
    const unknown = await sh("nslookup nosuch.default.svc.cluster.local 2>&1");
    expect(unknown.stdout).toContain("NXDOMAIN");
    expect(unknown.stdout).not.toContain(ip);
  }, 30_000);

  test("cluster DNS: a Service in another namespace answers to <svc>.<ns>, not to <svc>", async () => {
    expect((await applyText("ns-other", NAMESPACE("other"))).code).toBe(0);
    const applied = await applyText("db", DB_SERVICE("other"));
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const svc = JSON.parse((await minik(["get", "service", "db", "-n", "other", "-o", "json"])).stdout);
    const ip = svc.spec.clusterIP as string;
    seenServiceIPs.add(ip);
    const resolved = await waitFor(
      async () => (await sh("ping -c1 -W1 db.other 2>&1")).stdout.match(/PING db\.other \(([\d.]+)\)/)?.[1],
      {
        what: "db.other resolving",
      },
    );
    expect(resolved).toBe(ip);
    expect((await sh("nslookup db.other.svc.cluster.local")).stdout).toContain(`Address: ${ip}`);
    const bare = await sh("ping -c1 -W1 db 2>&1");
    expect(bare.stdout).not.toContain(ip);
    expect(bare.stdout).toMatch(/bad address|unknown host/i);
    expect((await minik(["delete", "service", "db", "-n", "other"])).code).toBe(0);
    await minik(["delete", "namespace", "other", "--wait=false"]);
  }, 30_000);

  test("one apply creates a Namespace and a Service in it", async () => {
    const applied = await applyText("ns-db", `${NAMESPACE("third")}---\n${DB_SERVICE("third")}`);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    seenServiceIPs.add(
      JSON.parse((await minik(["get", "service", "db", "-n", "third", "-o", "json"])).stdout).spec.clusterIP,
    );
    expect((await minik(["delete", "namespace", "third", "--wait=false"])).code).toBe(0);
  });

  test("a ClusterIP spreads over both replicas through a named targetPort", async () => {
    const svc = await svcJson("web");
    expect(svc.spec.ports[0].targetPort).toBe("http");
    const names = (await podsJson("app=web")).map((p) => p.metadata.name).sort();
    const r = await sh(`for i in $(seq 30); do wget -qO- http://${svc.spec.clusterIP}/cgi-bin/host; done`);
    const seen = new Set(r.stdout.split("\n").map((l) => l.replace(/^host=/, "")));
    expect([...seen].sort()).toEqual(names);
  }, 30_000);

  test("sessionAffinity ClientIP keeps one client on one replica", async () => {
    const ip = (await svcJson("sticky")).spec.clusterIP as string;
    const r = await sh(`for i in $(seq 20); do wget -qO- http://${ip}:8080/cgi-bin/host; done`);
    const lines = r.stdout.split("\n");
    expect(lines.length).toBe(20);
    expect(new Set(lines).size).toBe(1);
    expect(lines[0]).toMatch(/^host=web-/);
  }, 30_000);

  test("a deleted replica leaves rotation before it stops serving; its replacement joins once Ready", async () => {
    const nodePort = (await svcJson("web")).spec.ports[0].nodePort as number;
    const [victim, survivor] = await podsJson("app=web");
    let failures = 0;
    let requests = 0;
    const firstSeen = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const text = await get(`http://127.0.0.1:${nodePort}/cgi-bin/host`);
        requests++;
        if (!text) failures++;
        else if (!firstSeen.has(text)) firstSeen.set(text, Date.now());
      }
    })();
    try {
      // let the poller see both replicas before the delete
      await waitFor(
        () =>
          firstSeen.has(`host=${victim!.metadata.name}`) && firstSeen.has(`host=${survivor!.metadata.name}`),
        {
          timeoutMs: 10_000,
          what: "both replicas answering the NodePort",
        },
      );
      expect((await minik(["delete", "pod", victim!.metadata.name, "--wait=false"])).code).toBe(0);
      const replacement = await waitFor(
        async () => {
          const pods = await podsJson("app=web");
          const fresh = pods.find(
            (p) => p.metadata.name !== victim!.metadata.name && p.metadata.name !== survivor!.metadata.name,
          );
          return fresh && ready(fresh) && !pods.some((p) => p.metadata.name === victim!.metadata.name)
            ? fresh
            : undefined;
        },
        { timeoutMs: 60_000, what: "the victim gone and its replacement Ready" },
      );
      seenUids.add(replacement.metadata.uid);
      await waitFor(() => firstSeen.has(`host=${replacement.metadata.name}`), {
        timeoutMs: 15_000,
        what: "the replacement answering",
      });
      const readyAt = Date.parse(
        replacement.status.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!,
      );
      // lastTransitionTime has whole seconds: the first answer cannot come before that second
      expect(firstSeen.get(`host=${replacement.metadata.name}`)!).toBeGreaterThanOrEqual(readyAt);
    } finally {
      polling = false;
      await poller;
    }
    expect(requests).toBeGreaterThan(20);
    expect(failures).toBe(0);
  }, 90_000);

  test("a hostPort answers on 127.0.0.1; a second pod asking for it is reported, not run", async () => {
    const port = await freePort();
    expect((await applyText("hp1", HOSTPORT_POD("hp1", port))).code).toBe(0);
    const text = await waitFor(() => get(`http://127.0.0.1:${port}/cgi-bin/host`), {
      timeoutMs: 30_000,
      what: `hostPort ${port} answering`,
    });
    expect(text).toBe("host=hp1");
    expect((await applyText("hp2", HOSTPORT_POD("hp2", port))).code).toBe(0);
    const reported = await waitFor(
      async () => {
        const events = await api("/api/v1/namespaces/default/events");
        const hp2 = events.items.filter((e: any) => e.involvedObject?.name === "hp2");
        return hp2.find((e: any) => /free ports|hostPort|port \d+/i.test(e.message ?? "")) as
          | { reason: string; message: string }
          | undefined;
      },
      { timeoutMs: 20_000, what: "an event saying hp2's hostPort is taken" },
    );
    expect(reported.message).toMatch(/port/i);
    const hp2 = (await podsJson("test=hostport")).find((p) => p.metadata.name === "hp2")!;
    expect(hp2.status.phase).toBe("Pending");
    expect(await get(`http://127.0.0.1:${port}/cgi-bin/host`)).toBe("host=hp1");
    expect((await fetch(`${d!.url}/readyz`)).ok).toBe(true);
    for (const p of await podsJson("test=hostport")) seenUids.add(p.metadata.uid);
    expect((await minik(["delete", "pod", "hp1", "hp2", "--grace-period", "0"])).code).toBe(0);
  }, 60_000);

  test("a second Service asking for a taken nodePort is rejected, naming the port", async () => {
    let port = 0;
    for (let i = 0; i < 20 && !port; i++) {
      const candidate = 30000 + Math.floor(Math.random() * 2700);
      if ((await applyText("np-a", NODEPORT_SVC("np-a", candidate))).code === 0) port = candidate;
    }
    expect(port).toBeGreaterThan(0);
    seenNodePorts.add(port);
    seenServiceIPs.add((await svcJson("np-a")).spec.clusterIP);
    const second = await applyText("np-b", NODEPORT_SVC("np-b", port));
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(String(port));
    expect(second.stderr).toMatch(/already allocated/);
    expect((await minik(["get", "service", "np-b"])).code).not.toBe(0);
  }, 30_000);

  test("deleting everything leaves no netns, veths or nft entries, also after a restart", async () => {
    await minik(["delete", "deployment", "web", "--wait=false"]);
    expect((await deleteAllPods()).code).toBe(0);
    expect((await minik(["delete", "services", "web", "sticky", "np-a"])).code).toBe(0);
    await waitFor(async () => (await podsJson()).length === 0, { timeoutMs: 30_000, what: "all pods gone" });
    const uids = [...seenUids];
    const check = () => leftovers(uids, [...seenServiceIPs], [...seenNodePorts]);
    await waitFor(() => check().length === 0, {
      timeoutMs: 30_000,
      what: "pod networks and Service rules to go",
    });
    await d!.stop();
    d = undefined;
    expect(check()).toEqual([]);
    d = await startExclusive(dataDir);
    expect(check()).toEqual([]);
    // a new Service in the table proves the restarted proxy has synced: the old ones stay gone
    expect(
      (await applyText("after", NODEPORT_SVC("after", 0).replace("nodePort: 0", "targetPort: 80"))).code,
    ).toBe(0);
    const after = (await svcJson("after")).spec.clusterIP as string;
    await waitFor(
      () =>
        Bun.spawnSync(["nft", "list", "table", "ip", DEFAULT_NFT_TABLE]).stdout.toString().includes(after),
      {
        what: "the new Service in the nft table",
      },
    );
    // (the allocator may hand the new Service a freed address or port: not a leftover)
    const port = (await svcJson("after")).spec.ports[0].nodePort as number;
    expect(
      leftovers(
        uids,
        [...seenServiceIPs].filter((ip) => ip !== after),
        [...seenNodePorts].filter((p) => p !== port),
      ),
    ).toEqual([]);
    expect((await minik(["delete", "service", "after"])).code).toBe(0);
    const netns = Bun.spawnSync(["ip", "netns", "list"]).stdout.toString();
    expect(netns.split("\n").filter((l) => uids.some((u) => l.includes(shortId(u))))).toEqual([]);
  }, 240_000);

  test("minik reset refuses while minik runs, then removes containers, pod networks, bridge, nft table and mounts", async () => {
    expect((await applyText("leftover", HOSTPORT_POD("leftover", await freePort()))).code).toBe(0);
    const pod = await waitFor(
      async () =>
        (await podsJson("test=hostport")).find(
          (p) => p.metadata.name === "leftover" && p.status.phase === "Running",
        ),
      { timeoutMs: 30_000, what: "a pod to leave behind" },
    );
    const refused = Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr.toString()).toContain(d!.url);
    expect(refused.stderr.toString()).toMatch(/stop/i);

    await d!.stop(); // containers keep running when minik stops
    d = undefined;
    expect(Bun.spawnSync(["ip", "netns", "list"]).stdout.toString()).toContain(shortId(pod.metadata.uid));
    const record = JSON.parse(
      readFileSync(
        join(dataDir, "containers", readdirSync(join(dataDir, "containers"))[0]!, "container.json"),
        "utf8",
      ),
    );
    expect(processGone(record.pid)).toBe(false);

    // reset also refuses while another engineer's `minik up` runs on this machine: wait for it
    const r = await waitFor(
      () => {
        const run = Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir]);
        return run.exitCode === 0 || !/another minik up/.test(run.stderr.toString()) ? run : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1000, what: "minik reset (another minik up on this machine)" },
    );
    const out = r.stdout.toString();
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(out).toContain("removed pod default/leftover");
    expect(processGone(record.pid)).toBe(true);
    expect(leftovers([pod.metadata.uid], [], [])).toEqual([]);
    expect(Bun.spawnSync(["ip", "link", "show", DEFAULT_BRIDGE]).exitCode).not.toBe(0);
    expect(Bun.spawnSync(["nft", "list", "table", "ip", DEFAULT_NFT_TABLE]).exitCode).not.toBe(0);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .filter((l) => l.includes(dataDir));
    expect(mounts).toEqual([]);
    // nothing of minik left on the machine, and crun holds no state of the container
    expect(Bun.spawnSync(["ip", "netns", "list"]).stdout.toString()).not.toMatch(
      new RegExp(`^${DEFAULT_NETNS_PREFIX}`, "m"),
    );
    expect(Bun.spawnSync(["ip", "-o", "link"]).stdout.toString()).not.toMatch(
      new RegExp(`: ${DEFAULT_VETH_PREFIX}`),
    );
    const crunRoot = join(dataDir, "run", "crun");
    expect(existsSync(crunRoot) ? readdirSync(crunRoot) : []).toEqual([]);
    const cgroups = Bun.spawnSync([
      "find",
      "/sys/fs/cgroup",
      "-maxdepth",
      "9",
      "-type",
      "d",
      "-name",
      pod.metadata.uid,
    ]);
    expect(cgroups.stdout.toString()).toBe("");
    expect(existsSync(join(dataDir, "state.db"))).toBe(true);

    const all = Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
    expect(all.exitCode).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);
});
