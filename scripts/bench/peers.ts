/**
 * The peers minik is measured against, run inside one shared hybrid-cgroup shell (see peerShell):
 * raw `crun run -d` of an OCI bundle on the same cached layer dirs, given the same work minik does
 * for a pod (a network namespace with a veth on a bridge, an address and a default route, and
 * minik's own cgroup resources), and podman 4.3 with its own storage, network config
 * (10.90.0.0/24, so it never meets minik0's range) and cgroupfs.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PeerShell, peerShell } from "./lib.ts";

export const HTTPD_IMAGE = "127.0.0.1:5100/minik-test/httpd:1";
const HTTPD_ARGS = ["busybox", "httpd", "-f", "-p", "80", "-h", "/www"];
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** The crun peer's own bridge and range (minik's pods use 10.89.0.0/16, podman 10.90.0.0/24). */
const PEER_BRIDGE = "mkbench0";
const PEER_NET = "10.91";

/**
 * What minik does for a pod's network, as two `ip -batch` runs (minik does it by netlink, with no
 * process): the netns, a veth pair with one end on the bridge, then inside the address, the links
 * up and the default route. `n` picks the address (10.91.x.y/16).
 */
export function peerNetworkScript(id: string, n: number): string {
  const ip = `${PEER_NET}.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`; // never .0, .1 or .255
  const host = [
    `netns add ${id}`,
    `link add v${id} type veth peer name eth0 netns ${id}`,
    `link set v${id} master ${PEER_BRIDGE} up`,
  ];
  const inside = [
    "link set lo up",
    `addr add ${ip}/16 dev eth0`,
    "link set eth0 up",
    `route add default via ${PEER_NET}.0.1`,
  ];
  return `printf '%s\\n' ${host.map((l) => `'${l}'`).join(" ")} | ip -batch - && printf '%s\\n' ${inside.map((l) => `'${l}'`).join(" ")} | ip -n ${id} -batch -`;
}

/** Removes netavark's global chains, only when no container rule is left in them. */
const REMOVE_NETAVARK_CHAINS = `
if [ -z "$(iptables -S NETAVARK_FORWARD 2>/dev/null | grep -v '^-N')" ] && [ -z "$(iptables -t nat -S NETAVARK-HOSTPORT-DNAT 2>/dev/null | grep -v '^-N')" ]; then
  iptables -D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD
  iptables -X NETAVARK_FORWARD
  iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
  iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT
  iptables -t nat -D POSTROUTING -j NETAVARK-HOSTPORT-MASQ
  for c in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do iptables -t nat -F $c; iptables -t nat -X $c; done
fi 2>/dev/null; true`;

export interface Peers {
  shell: PeerShell;
  crun?: CrunPeer;
  podman?: PodmanPeer;
  /** Why a peer is missing, for the table. */
  crunMissing?: string;
  podmanMissing?: string;
  close(): Promise<void>;
}

export interface CrunPeer {
  /** mkdir + overlay mount + `crun run -d`; returns ms inside the shell. */
  start(id: string): Promise<number>;
  /** `crun delete -f` + umount, for ids started here. */
  remove(ids: string[]): Promise<number>;
  /** A whole batch in one shell loop (no round trips between containers). */
  startBatch(ids: string[]): Promise<number>;
  removeAll(): Promise<void>;
}

export interface PodmanPeer {
  G: string;
  run(name: string): Promise<number>;
  runBatch(names: string[]): Promise<number>;
  rm(names: string[]): Promise<number>;
  conmonPids(): Promise<number[]>;
  ip(name: string): Promise<string>;
  play(yamlPath: string): Promise<number>;
  down(yamlPath: string): Promise<void>;
  removeAll(): Promise<void>;
}

/** The memory cgroup we run in (v1) or the unified one: peers' cgroups go below it. */
function ownCgroup(): string {
  const lines = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
  const mem =
    lines.find((l) => l.split(":")[1]?.split(",").includes("memory")) ??
    lines.find((l) => l.startsWith("0::"));
  return (mem?.split(":")[2] ?? "/").replace(/\/$/, "");
}

export async function createPeers(
  workDir: string,
  layerDirsTopFirst: string[],
  log: (m: string) => void,
  /** `linux.resources` of minik's own container for the same pod, so both get the same limits. */
  resources: Record<string, unknown>,
): Promise<Peers> {
  const podmanDir = join(workDir, "podman");
  mkdirSync(join(podmanDir, "networks"), { recursive: true });
  const conf = join(podmanDir, "containers.conf");
  writeFileSync(
    conf,
    [
      "[network]",
      'network_backend = "netavark"',
      `network_config_dir = "${join(podmanDir, "networks")}"`,
      'default_network = "minikbench"',
      'default_subnet = "10.90.0.0/24"',
      "[engine]",
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      "[containers]",
      'log_driver = "k8s-file"',
      // podman 4.3 asks for more than our hard limits otherwise (kube play has no --ulimit)
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      "",
    ].join("\n"),
  );
  const cg = ownCgroup();
  const shell = peerShell(workDir, { CONTAINERS_CONF: conf });
  const peers: Peers = {
    shell,
    async close() {
      // the parent cgroup of the crun peers, in every hierarchy (crun removed the children)
      await shell.exec(
        `for d in /sys/fs/cgroup/*${cg}/minik-bench-crun; do rmdir "$d"; done 2>/dev/null; true`,
      );
      if (!netavarkBefore) await shell.exec(REMOVE_NETAVARK_CHAINS);
      await shell.exec(`ip link del ${PEER_BRIDGE} 2>/dev/null; true`);
      await shell.close();
    },
  };
  // netavark installs global iptables chains on first use and never removes them
  const netavarkBefore = (await shell.exec("iptables -S NETAVARK_FORWARD")).code === 0;

  // crun: one base spec, per container a fresh overlay upper on the shared lower layer dirs
  const crunRoot = join(workDir, "crun-state");
  const crunDir = join(workDir, "crun");
  if ((await shell.exec("crun --version")).code !== 0) peers.crunMissing = "n/a (crun not found)";
  else {
    mkdirSync(crunDir, { recursive: true });
    const bridge = await shell.exec(
      `ip link add ${PEER_BRIDGE} type bridge && ip addr add ${PEER_NET}.0.1/16 dev ${PEER_BRIDGE} && ip link set ${PEER_BRIDGE} up`,
    );
    if (bridge.code !== 0) throw new Error(`the crun peer's bridge ${PEER_BRIDGE}: ${bridge.out}`);
    const base = await makeBaseSpec(workDir);
    let next = 1;
    const lower = layerDirsTopFirst.join(":");
    const started = new Set<string>();
    const startScript = (id: string) => {
      const b = join(crunDir, id);
      const s = structuredClone(base);
      s.linux.cgroupsPath = `${cg}/minik-bench-crun/${id}`;
      s.hostname = id;
      s.linux.namespaces = s.linux.namespaces.map((n: { type: string }) =>
        n.type === "network" ? { type: "network", path: `/run/netns/${id}` } : n,
      );
      mkdirSync(b, { recursive: true });
      writeFileSync(join(b, "config.json"), JSON.stringify(s));
      return `${peerNetworkScript(id, next++)} && mkdir -p ${b}/u ${b}/w ${b}/rootfs && mount -t overlay overlay -o lowerdir=${lower},upperdir=${b}/u,workdir=${b}/w ${b}/rootfs && crun --root ${crunRoot} --cgroup-manager=cgroupfs run -d --bundle ${b} ${id}`;
    };
    const removeScript = (id: string) =>
      `crun --root ${crunRoot} --cgroup-manager=cgroupfs delete -f ${id}; umount ${join(crunDir, id)}/rootfs; ip netns del ${id}`;
    peers.crun = {
      async start(id) {
        started.add(id);
        const r = await shell.exec(startScript(id));
        if (r.code !== 0) throw new Error(`crun run ${id}: ${r.out}`);
        return r.ms;
      },
      async startBatch(ids) {
        for (const id of ids) started.add(id);
        const r = await shell.exec(ids.map(startScript).join(" && "));
        if (r.code !== 0) throw new Error(`crun run batch: ${r.out}`);
        return r.ms;
      },
      async remove(ids) {
        const r = await shell.exec(ids.map(removeScript).join("; "));
        for (const id of ids) started.delete(id);
        return r.ms;
      },
      async removeAll() {
        if (started.size) await this.remove([...started]);
      },
    };
  }

  // podman: its own storage and run root; ulimits within our hard limits (podman 4.3 asks for more)
  const G = `podman --root ${join(podmanDir, "root")} --runroot ${join(podmanDir, "runroot")}`;
  const RUN = `${G} run -d --network minikbench --ulimit nofile=1024:1024 --ulimit nproc=1024:1024`;
  const version = await shell.exec(`${G} version --format '{{.Client.Version}}'`);
  if (version.code !== 0) peers.podmanMissing = `n/a (podman: ${version.out.trim().split("\n").pop()})`;
  else {
    // an explicit network: podman's default one would take the next free range, maybe ours
    await shell.exec(
      `${G} network exists minikbench || ${G} network create --subnet 10.90.0.0/24 minikbench`,
    );
    const pull = await shell.exec(`${G} pull -q --tls-verify=false ${HTTPD_IMAGE}`);
    if (pull.code !== 0) peers.podmanMissing = `n/a (podman pull: ${pull.out.trim().split("\n").pop()})`;
    else {
      const probe = await shell.exec(`${RUN} --name pb-probe ${HTTPD_IMAGE} && ${G} rm -f -t 0 pb-probe`);
      if (probe.code !== 0) peers.podmanMissing = `n/a (podman run: ${probe.out.trim().split("\n").pop()})`;
      else log(`podman ${version.out.trim()} works (storage ${podmanDir})`);
    }
  }
  if (!peers.podmanMissing) {
    peers.podman = {
      G,
      async run(name) {
        const r = await shell.exec(`${RUN} --name ${name} ${HTTPD_IMAGE}`);
        if (r.code !== 0) throw new Error(`podman run ${name}: ${r.out}`);
        return r.ms;
      },
      async runBatch(names) {
        const r = await shell.exec(names.map((n) => `${RUN} --name ${n} ${HTTPD_IMAGE}`).join(" && "));
        if (r.code !== 0) throw new Error(`podman run batch: ${r.out}`);
        return r.ms;
      },
      async rm(names) {
        return (await shell.exec(`${G} rm -f -t 0 ${names.join(" ")}`)).ms;
      },
      async conmonPids() {
        const r = await shell.exec(
          `${G} ps -q --no-trunc | xargs -r ${G} inspect --format '{{.State.ConmonPid}}'`,
        );
        return r.out
          .split("\n")
          .map(Number)
          .filter((n) => n > 0);
      },
      async ip(name) {
        const r = await shell.exec(
          `${G} inspect ${name} --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'`,
        );
        return r.out.trim();
      },
      async play(yamlPath) {
        const r = await shell.exec(`${G} kube play --network minikbench --tls-verify=false ${yamlPath}`);
        if (r.code !== 0) throw new Error(`podman kube play: ${r.out}`);
        return r.ms;
      },
      async down(yamlPath) {
        await shell.exec(`${G} kube down ${yamlPath}; ${G} pod rm -f -a -t 0`);
      },
      async removeAll() {
        await shell.exec(`${G} pod rm -f -a -t 0; ${G} rm -f -a -t 0; ${G} network rm -f minikbench`);
      },
    };
  }
  return peers;

  async function makeBaseSpec(dir: string) {
    const d = join(dir, "spec");
    mkdirSync(d, { recursive: true });
    await shell.exec(`cd ${d} && rm -f config.json && crun spec`);
    const s = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
    s.process.args = HTTPD_ARGS;
    s.process.env = [PATH_ENV];
    s.process.terminal = false;
    s.root = { path: "rootfs", readonly: false };
    s.linux.resources = resources;
    return s;
  }
}
