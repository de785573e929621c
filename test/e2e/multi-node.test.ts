import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import {
  BINARY,
  type Daemon,
  freePort,
  kubectl,
  kubectlArgv,
  nodeDataDir,
  removeDir,
  startDaemon,
} from "./daemon.ts";
import {
  createSecondNode,
  HOST_IP,
  NETNS,
  NODE_BRIDGE,
  NODE_NETNS_PREFIX,
  NODE_TABLE,
  type SecondNode,
  waitForLog,
} from "./second-node.ts";

// Two daemons, image pulls through a relay and probes across nodes on a loaded 2-core machine.
setDefaultTimeout(240_000);

const root = process.getuid?.() === 0 && existsSync("/usr/bin/crun") && Bun.which("ip") !== null;
const NODE2 = "minik-e2e-node2";

let server: Daemon | undefined;
let node2: SecondNode | undefined;
let forwardingBefore = "0";

type Obj = {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
  };
  spec?: Record<string, any>;
  status?: Record<string, any>;
};

async function api<T = Obj>(
  method: string,
  path: string,
  body?: unknown,
  type = "application/json",
): Promise<T> {
  const token = readFileSync(join(server!.dataDir, "token"), "utf8").trim();
  const res = await fetch(`${server!.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": type },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const pods = async (selector: string) =>
  (await api<{ items: Obj[] }>("GET", `/api/v1/namespaces/default/pods?labelSelector=${selector}`)).items;
const ready = (p: Obj) => p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
const nodeReady = (n: Obj) =>
  n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");

describe.skipIf(
  skipUnless(root && !!testImages, "e2e", root ? testImagesMissing : "needs root, crun and iproute2"),
)("a node that joins: minik agent in a network namespace", () => {
  beforeAll(async () => {
    forwardingBefore = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
    node2 = await createSecondNode(NODE2);
    const tlsPort = await freePort();
    server = await startDaemon(
      ["--listen-tls", `${HOST_IP}:${tlsPort}`, "--node-ip", HOST_IP],
      nodeDataDir("server"),
    );
  });
  afterAll(async () => {
    await node2?.cleanup();
    await server?.stop();
    removeDir(server?.dataDir);
    writeFileSync("/proc/sys/net/ipv4/ip_forward", forwardingBefore);
  });

  const serverUrl = () => {
    const url = new URL(
      readFileSync(join(server!.dataDir, "kubeconfig"), "utf8").match(/server: (\S+)/)![1]!,
    );
    return url.origin;
  };

  test("the server writes a pinned node token (0600); a wrong secret is refused with 401 and said so", async () => {
    const tokenFile = join(server!.dataDir, "node-token");
    expect(readFileSync(tokenFile, "utf8")).toMatch(/^K10[0-9a-f]{64}::node:[0-9a-f]{64}\n$/);
    expect((await Bun.file(tokenFile).stat()).mode & 0o777).toBe(0o600);
    const wrong = join(node2!.dataDir, "wrong-token");
    writeFileSync(wrong, readFileSync(tokenFile, "utf8").replace(/node:[0-9a-f]+/, `node:${"0".repeat(64)}`));
    node2!.start(serverUrl(), wrong);
    const code = await node2!.proc!.exited;
    expect(code).not.toBe(0);
    expect(node2!.output()).toContain("refused the node token (401 Unauthorized)");
  });

  test("the agent registers its Node, heartbeats through its Lease and gets a /24 of the cluster CIDR", async () => {
    node2!.start(serverUrl(), join(server!.dataDir, "node-token"));
    await waitForLog(node2!, "joined");
    expect(node2!.proc!.exitCode).toBeNull();
    const node = await waitFor(
      async () => {
        const n = await api("GET", `/api/v1/nodes/${NODE2}`).catch(() => undefined);
        return n && nodeReady(n) ? n : undefined;
      },
      { timeoutMs: 60_000, what: `${NODE2} Ready` },
    );
    expect(node.spec?.podCIDR).toBe("10.80.0.0/24");
    expect(node.metadata.labels?.["node-role.kubernetes.io/control-plane"]).toBeUndefined();
    expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: "10.251.19.2" });
    const lease = await api("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE2}`);
    expect(lease.spec?.holderIdentity).toBe(NODE2);
    // the server's own node keeps its bridge's range
    const own = (await api<{ items: Obj[] }>("GET", "/api/v1/nodes")).items.find(
      (n) => n.metadata.name !== NODE2,
    )!;
    expect(own.spec?.podCIDR).toBe("10.88.0.0/16");
    // the agent's network lives in its namespace under its own names
    expect(node2!.exec(["ip", "-br", "addr", "show", NODE_BRIDGE])).toContain("10.80.0.1/24");
    expect(node2!.exec(["nft", "list", "tables"])).toContain(`table ip ${NODE_TABLE}`);
  });

  test("a Deployment with anti-affinity runs a real pod on each node; pods and Services answer across nodes", async () => {
    const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector: {matchLabels: {app: web}}
      containers:
      - name: httpd
        image: minik-test/httpd:1
        ports: [{containerPort: 80}]
        readinessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 1
`;
    await server!.apply("web", web);
    const running = await waitFor(
      async () => {
        const items = await pods("app=web");
        return items.length === 2 && items.every(ready) ? items : undefined;
      },
      { timeoutMs: 120_000, what: "both web pods Ready" },
    );
    const byNode = new Map(running.map((p) => [p.spec?.nodeName as string, p]));
    expect([...byNode.keys()].sort()).toEqual([NODE2, await ownNodeName()].sort());
    const remote = byNode.get(NODE2)!;
    const local = [...byNode.values()].find((p) => p !== remote)!;
    expect(remote.status?.podIP).toMatch(/^10\.80\.0\.\d+$/);
    expect(local.status?.podIP).toMatch(/^10\.88\.\d+\.\d+$/);
    // a real container on the joined node, in crun's state under its data dir
    const crunList = Bun.spawnSync([
      "crun",
      "--root",
      join(node2!.dataDir, "run", "crun"),
      "list",
    ]).stdout.toString();
    expect(crunList).toContain("running");

    // one Service per side: each node's proxy must program the endpoint on the other node
    for (const [side, pod] of [
      ["server", local],
      ["node2", remote],
    ] as const) {
      await api(
        "PATCH",
        `/api/v1/namespaces/default/pods/${pod.metadata.name}`,
        { metadata: { labels: { side } } },
        "application/merge-patch+json",
      );
      await server!.apply(
        `svc-${side}`,
        `apiVersion: v1\nkind: Service\nmetadata: {name: web-on-${side}}\nspec:\n  selector: {app: web, side: ${side}}\n  ports: [{port: 8080, targetPort: 80}]\n`,
      );
    }
    // a client on each node whose readiness is a wget of the other node's pod by IP and of the
    // other node's Service by name (cluster DNS on its own node)
    const client = (name: string, node: string, peerIp: string, service: string) => `${busyboxOn(
      `${name}, labels: {app: client}`,
      node,
      '[sleep, "3600"]',
    )}    readinessProbe:
      exec:
        command: [sh, -c, "wget -q -O - http://${peerIp}/ | grep -q httpd && wget -q -O - http://${service}:8080/ | grep -q httpd"]
      periodSeconds: 2
      timeoutSeconds: 8
`;
    await server!.apply("client-node2", client("client-node2", NODE2, local.status!.podIP, "web-on-server"));
    await server!.apply(
      "client-server",
      client("client-server", await ownNodeName(), remote.status!.podIP, "web-on-node2"),
    );
    await waitFor(
      async () => {
        const items = await pods("app=client");
        return items.length === 2 && items.every(ready);
      },
      { timeoutMs: 60_000, what: "both clients reach the other node's pod and Service" },
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${await diagnostics()}`);
    });
    expect((await api("GET", "/api/v1/namespaces/default/pods/client-node2")).spec?.nodeName).toBe(NODE2);
  });

  test("logs (-f), exec and port-forward reach a pod on the joined node through its node API", async () => {
    await server!.apply(
      "talker",
      busyboxOn(
        "talker",
        NODE2,
        '[sh, -c, "echo hello-from-node2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]',
      ),
    );
    await waitFor(
      async () => (await api("GET", "/api/v1/namespaces/default/pods/talker")).status?.phase === "Running",
      { timeoutMs: 60_000, what: "talker Running on node2" },
    );
    const node = await api("GET", `/api/v1/nodes/${NODE2}`);
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    // the server trusts exactly the certificate the node published
    expect(node.metadata.annotations?.["node.minik.dev/node-api-certificate"]).toContain(
      "-----BEGIN CERTIFICATE-----",
    );
    // minik logs and kubectl logs (with --tail) of the pod on node2
    await waitFor(async () => (await server!.minik(["logs", "talker"])).stdout.includes("hello-from-node2"), {
      timeoutMs: 20_000,
      what: "minik logs talker",
    });
    const tail = await kubectl(server!.dataDir, ["logs", "talker", "--tail=1"]);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trim()).toMatch(/^tick \d+$/);
    // kubectl logs -f streams new lines as they come
    const follow = Bun.spawn(kubectlArgv(server!.dataDir, ["logs", "-f", "talker", "--since=2s"]), {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = follow.stdout.getReader();
      let seen = "";
      const started = Date.now();
      while ((seen.match(/tick/g) ?? []).length < 4 && Date.now() - started < 30_000) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      expect((seen.match(/tick/g) ?? []).length).toBeGreaterThanOrEqual(4);
    } finally {
      follow.kill();
      await follow.exited;
    }
    // exec: the container's host name and an echo, through minik and kubectl
    // minik inspect: the container as node2's kernel sees it
    const inspect = await server!.minik(["inspect", "pod/talker", "-o", "json"]);
    expect(inspect.stderr).toBe("");
    expect(JSON.parse(inspect.stdout).state).toBe("running");
    const hostname = await server!.minik(["exec", "talker", "--", "hostname"]);
    expect(hostname.stdout.trim()).toBe("talker");
    const echo = await kubectl(server!.dataDir, [
      ..."exec talker -- sh -c".split(" "),
      "echo out; echo err >&2; exit 3",
    ]);
    expect(echo.stdout).toBe("out\n");
    expect(echo.stderr).toContain("err");
    expect(echo.code).toBe(3);
    const stdin = await kubectl(server!.dataDir, ["exec", "-i", "talker", "--", "cat"], "through stdin\n");
    expect(stdin.stdout).toBe("through stdin\n");
    // port-forward to the httpd on node2
    const web = (await pods("app=web")).find((p) => p.spec?.nodeName === NODE2)!;
    const local = await freePort();
    const forward = Bun.spawn(
      kubectlArgv(server!.dataDir, ["port-forward", `pod/${web.metadata.name}`, `${local}:80`]),
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      expect(await pageAt(local, "port-forward to the httpd on node2")).toContain("httpd");
    } finally {
      forward.kill();
      await forward.exited;
    }
    // the node API answers only its server's credential
    const denied = await fetch("https://10.251.19.2:10250/api/v1/namespaces/default/pods/talker/log", {
      headers: { Authorization: "Bearer wrong" },
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { reason: string }).reason).toBe("Unauthorized");
    const bare = await fetch("https://10.251.19.2:10250/api/v1/namespaces/default/pods/talker/log", {
      tls: { rejectUnauthorized: false },
    } as RequestInit);
    expect(bare.status).toBe(401);
    await server!.minik(["delete", "pod", "talker"]);
  });

  test("kubectl run -it (attach with a tty) and minik port-forward reach the joined node", async () => {
    const onNode2 = JSON.stringify({ spec: { nodeSelector: { "kubernetes.io/hostname": NODE2 } } });
    const run = await kubectl(
      server!.dataDir,
      [
        ..."run oncetty -it --rm --restart=Never --image=minik-test/busybox:1".split(" "),
        `--overrides=${onNode2}`,
        "--",
        "sh",
      ],
      "echo tty-ok from $(hostname)\nexit 3\n",
    );
    expect(run.stdout).toContain("tty-ok from oncetty");
    expect(run.stdout).toContain('pod "oncetty" deleted');
    expect(run.code).toBe(3);
    const web = (await pods("app=web")).find((p) => p.spec?.nodeName === NODE2)!;
    const local = await freePort();
    const forward = Bun.spawn([BINARY, "port-forward", `pod/${web.metadata.name}`, `${local}:80`], {
      env: server!.env,
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      expect(await pageAt(local, "minik port-forward to the httpd on node2")).toContain("httpd");
    } finally {
      forward.kill();
      await forward.exited;
    }
  });

  test("stopping everything leaves no namespace, bridge, route or pod namespace of the second node", async () => {
    for (const name of ["web", "client-node2", "client-server"])
      await server!
        .minik(["delete", name.startsWith("client") ? "pod" : "deployment", name, "--grace-period", "1"])
        .catch(() => {});
    // both agents tear their pods down (containers, pod namespaces) before they stop
    await waitFor(async () => (await api<{ items: Obj[] }>("GET", "/api/v1/pods")).items.length === 0, {
      timeoutMs: 60_000,
      what: "every pod gone",
    });
    const started = Date.now();
    await node2!.stop();
    // SIGTERM stops the agent promptly (containers stay, as with a kubelet restart)
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(node2!.output()).toContain("SIGTERM: stopping");
    await node2!.cleanup();
    expect(Bun.spawnSync(["ip", "netns", "list"]).stdout.toString()).not.toContain(NETNS);
    expect(
      existsSync("/run/netns")
        ? readdirSync("/run/netns").filter((f) => f.startsWith(NODE_NETNS_PREFIX))
        : [],
    ).toEqual([]);
    expect(Bun.spawnSync(["ip", "route", "show", "10.80.0.0/24"]).stdout.toString().trim()).toBe("");
    expect(existsSync(node2!.dataDir)).toBe(false);
  });
});

/** The page a local port-forward serves, once it answers. */
function pageAt(port: number, what: string): Promise<string> {
  return waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      return res?.ok ? await res.text() : undefined;
    },
    { timeoutMs: 30_000, what },
  );
}

/** A busybox pod pinned to `node` (`name` may carry more metadata fields after it). */
function busyboxOn(name: string, node: string, command: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: minik-test/busybox:1
    command: ${command}
`;
}

async function ownNodeName(): Promise<string> {
  const items = (await api<{ items: Obj[] }>("GET", "/api/v1/nodes")).items;
  return items.find((n) => n.metadata.name !== NODE2)!.metadata.name;
}

/** What a failure of the cross-node checks needs to be understood: probe events, routes, rules. */
async function diagnostics(): Promise<string> {
  const run = (argv: string[]) =>
    Bun.spawnSync(argv).stdout.toString() + Bun.spawnSync(argv).stderr.toString();
  const events = await api<{ items: { involvedObject: { name: string }; message: string }[] }>(
    "GET",
    "/api/v1/namespaces/default/events",
  );
  return [
    "events:",
    ...events.items.map((e) => `  ${e.involvedObject.name}: ${e.message}`),
    `host routes:\n${run(["ip", "route"])}`,
    `host ip_forward: ${readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")}`,
    `node2 routes:\n${node2!.exec(["ip", "route"])}`,
    `node2 ip_forward: ${node2!.exec(["cat", "/proc/sys/net/ipv4/ip_forward"])}`,
    `node2 nft:\n${node2!.exec(["nft", "list", "ruleset"]).slice(0, 3000)}`,
    `agent output (tail):\n${node2!.output().slice(-3000)}`,
  ].join("\n");
}
