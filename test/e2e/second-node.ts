import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { join } from "node:path";
import { waitFor } from "../support/env.ts";
import { testImages, testImagesMissing } from "../support/registry.ts";
import { BINARY, collectOutput, nodeDataDir, removeDir } from "./daemon.ts";

/**
 * A second "machine" on this one: a network namespace joined to the host by a veth pair (host
 * side HOST_IP, namespace side NODE_IP, a /30 of their own), in which `minik agent` runs with its
 * own data dir, bridge, nft table and pod namespace prefix. The test registry listens on the
 * host's loopback, which the namespace cannot see: a small TCP relay on HOST_IP forwards to it.
 */
export const NETNS = "mk19-node2";
export const HOST_IP = "10.251.19.1";
export const NODE_IP = "10.251.19.2";
const HOST_VETH = "mk19h0";
export const NODE_BRIDGE = "mk19b0";
export const NODE_NETNS_PREFIX = "mk19p-";
export const NODE_TABLE = "mk19";

function sh(argv: string[], allowFailure = false): string {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0 && !allowFailure)
    throw new Error(`${argv.join(" ")} failed: ${p.stderr.toString().trim() || p.exitCode}`);
  return p.stdout.toString();
}

export interface SecondNode {
  name: string;
  dataDir: string;
  proc?: ReturnType<typeof Bun.spawn>;
  output(): string;
  /** Starts `minik agent` in the namespace against `server` with the token file. */
  start(server: string, tokenFile: string, extra?: string[]): void;
  stop(): Promise<void>;
  /** Runs a command in the namespace. */
  exec(argv: string[]): string;
  cleanup(): Promise<void>;
}

/** Makes the namespace and veth, and the registry relay; `cleanup` removes all of it. */
export async function createSecondNode(name: string): Promise<SecondNode> {
  if (!testImages) throw new Error(testImagesMissing);
  removeNetwork();
  sh(["ip", "netns", "add", NETNS]);
  sh(["ip", "link", "add", HOST_VETH, "type", "veth", "peer", "name", "eth0", "netns", NETNS]);
  sh(["ip", "addr", "add", `${HOST_IP}/30`, "dev", HOST_VETH]);
  sh(["ip", "link", "set", HOST_VETH, "up"]);
  sh(["ip", "-n", NETNS, "addr", "add", `${NODE_IP}/30`, "dev", "eth0"]);
  sh(["ip", "-n", NETNS, "link", "set", "eth0", "up"]);
  sh(["ip", "-n", NETNS, "link", "set", "lo", "up"]);
  const relay = await startRelay(HOST_IP, new URL(testImages.registries.plain.url));
  const dataDir = nodeDataDir("node2");
  const relayHost = `${HOST_IP}:${(relay.address() as { port: number }).port}`;
  writeFileSync(
    join(dataDir, "registries.yaml"),
    `mirrors:\n  docker.io:\n    endpoint:\n      - "http://${relayHost}"\nconfigs:\n  "${relayHost}":\n    insecure: true\n`,
  );
  let out = "";
  const node: SecondNode = {
    name,
    dataDir,
    output: () => out,
    start(server, tokenFile, extra = []) {
      const argv = [
        ...inNamespace(join(dataDir, "cgroup-view")),
        BINARY,
        "agent",
        "--server",
        server,
        "--token-file",
        tokenFile,
        "--data-dir",
        dataDir,
        "--node-name",
        name,
        "--node-ip",
        NODE_IP,
        "--bridge",
        NODE_BRIDGE,
        "--nft-table",
        NODE_TABLE,
        "--netns-prefix",
        NODE_NETNS_PREFIX,
        "--debug",
        ...extra,
      ];
      const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
      node.proc = proc;
      collectOutput(proc, (text) => {
        out += text;
      });
    },
    async stop() {
      if (!node.proc || node.proc.exitCode !== null) return;
      node.proc.kill("SIGTERM");
      await node.proc.exited;
    },
    exec: (argv) => sh(["ip", "netns", "exec", NETNS, ...argv]),
    async cleanup() {
      await node.stop();
      relay.close();
      removeDir(dataDir);
      removeNetwork();
    },
  };
  return node;
}

/**
 * Runs a command in the namespace as on another machine: its own network, and a sysfs of that
 * network (`ip netns exec` would give one, but would also hide the cgroup mounts under /sys, which
 * crun needs) — so in a private mount namespace the host's /sys/fs/cgroup is kept aside, a new
 * sysfs mounted, and the cgroup mounts put back on it.
 */
function inNamespace(keep: string): string[] {
  const script = [
    "set -e",
    `mkdir -p ${keep}`,
    `mount --rbind /sys/fs/cgroup ${keep}`,
    "mount -t sysfs sysfs /sys",
    `mount --rbind ${keep} /sys/fs/cgroup`,
    'exec "$@"',
  ].join("\n");
  return [
    "nsenter",
    `--net=/run/netns/${NETNS}`,
    "unshare",
    "--mount",
    "--propagation",
    "slave",
    "sh",
    "-c",
    script,
    "agent",
  ];
}

/**
 * Everything of the second node on the host: its pods' namespace files, the namespace (with the
 * bridge, nft table and routes inside it) and the host's veth and pod route.
 */
function removeNetwork() {
  if (existsSync("/run/netns"))
    for (const f of readdirSync("/run/netns"))
      if (f.startsWith(NODE_NETNS_PREFIX)) {
        sh(["umount", "-l", `/run/netns/${f}`], true);
        rmSync(`/run/netns/${f}`, { force: true });
      }
  sh(["ip", "netns", "del", NETNS], true);
  sh(["ip", "link", "del", HOST_VETH], true);
}

/** A TCP relay on `host`:free port to `target`, so the namespace can pull from the loopback registry. */
async function startRelay(host: string, target: URL): Promise<Server> {
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return server;
}

export async function waitForLog(node: SecondNode, text: string | RegExp, timeoutMs = 60_000) {
  const seen = () => (typeof text === "string" ? node.output().includes(text) : text.test(node.output()));
  await waitFor(() => seen() || node.proc?.exitCode !== null, { timeoutMs, what: `agent output ${text}` });
  if (!seen()) throw new Error(`minik agent exited with ${node.proc?.exitCode}: ${node.output()}`);
}
