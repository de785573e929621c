import { existsSync, readFileSync, statSync } from "node:fs";
import { hostname as hostHostname } from "node:os";
import type { SandboxConfig } from "../../core/seams/container-runtime.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import type { CgroupHost } from "../cgroups/cgroup-host.ts";
import {
  applyPodLimits,
  podCgroupPath,
  preparePodCgroupV2,
  removeCgroup,
  removeEmptyMinikRoot,
} from "../cgroups/cgroup-tree.ts";
import type { PodNetwork } from "../net/pod-network.ts";
import { umount } from "../supervise/libc.ts";
import type { DataLayout } from "./data-layout.ts";
import { attachNetns, createIpcUts, destroySandboxNamespaces, removeSandboxDir } from "./pod-sandbox.ts";
import { releaseVolumes } from "./pod-volumes.ts";
import { resolvConf, writeInitLayer } from "./rootfs.ts";
import { ensureDir, readRecords, removeDir, type SandboxRecord, writeRecord } from "./runtime-records.ts";

/**
 * The namespace files a sandbox owns (bind mounts that must exist for it to be joinable): none
 * of those it shares with the host.
 */
function ownNamespaceFiles(layout: DataLayout, s: SandboxRecord): string[] {
  const p = layout.sandbox(s.podUid);
  const host = s.hostNamespaces ?? {};
  return [...(host.network ? [] : [p.net, p.uts]), ...(host.ipc ? [] : [p.ipc])];
}

/** The host's own network namespace: the one file a pod's tear-down must never touch. */
function isHostNetns(file: string): boolean {
  const ino = (f: string) => statSync(f, { throwIfNoEntry: false })?.ino;
  const own = ino("/proc/self/ns/net");
  return own !== undefined && ino(file) === own;
}

/**
 * The pod sandboxes CrunRuntime keeps: network (from the PodNetwork, or a private netns with lo
 * up), IPC/UTS namespaces, /dev/shm, the init layer with /etc/hosts and friends, pod cgroup
 * limits; one sandbox.json each. Callers serialise per pod and stop/remove containers first.
 */
export interface PodSandboxes {
  /** Idempotent: a ready sandbox is returned as it is. */
  run(config: SandboxConfig): Promise<SandboxRecord>;
  /** Releases the network; the sandbox stays (not ready) until removed. */
  stop(podUid: string): Promise<void>;
  remove(podUid: string): Promise<void>;
  get(podUid: string): SandboxRecord | undefined;
  list(): SandboxRecord[];
}

export interface PodSandboxDeps {
  layout: DataLayout;
  cgroups: CgroupHost;
  network?: PodNetwork;
  bootId: string;
}

function nsfsMountPoints(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.startsWith("nsfs ")) out.add(left!.split(" ")[4]!);
  }
  return out;
}

function readHostsFile(): string {
  try {
    return readFileSync("/etc/hosts", "utf8");
  } catch {
    return "";
  }
}

export function createPodSandboxes(deps: PodSandboxDeps): PodSandboxes {
  const { layout, cgroups: cg, network } = deps;
  const sandboxes = new Map<string, SandboxRecord>();
  const save = (r: SandboxRecord) => writeRecord(`${ensureDir(layout.pod(r.podUid))}/sandbox.json`, r);

  // A sandbox whose namespace mounts are gone (reboot, or someone unmounted them) is
  // remade by the next run rather than joined (setns would fail).
  const nsfs = nsfsMountPoints();
  for (const s of readRecords<SandboxRecord>(layout.podsDir, "sandbox.json")) {
    if (s.bootId !== deps.bootId || !ownNamespaceFiles(layout, s).every((f) => nsfs.has(f))) s.ready = false;
    sandboxes.set(s.podUid, s);
  }

  /** The pod keeps its IPC/UTS namespaces until removal; the network goes at stop. */
  async function releaseNetwork(sb: SandboxRecord): Promise<void> {
    // A hostNetwork pod's network is the machine's own: tearing it down would cut the host off.
    const net = layout.sandbox(sb.podUid).net;
    if (sb.hostNamespaces?.network || isHostNetns(net)) return;
    umount(net);
    if (sb.networkManaged && network) await network.teardown(sb.podUid);
  }

  return {
    async run(config) {
      const existing = sandboxes.get(config.podUid);
      if (existing?.ready) return existing;
      const uid = config.podUid;
      const podName = `${config.namespace}/${config.name}`;
      const p = layout.sandbox(uid);
      ensureDir(p.dir);
      const host = config.hostNamespaces ?? {};
      // The network's processes run while this thread makes the IPC/UTS namespaces and cgroup.
      // A pod on the host's network gets no veth, no address and no hostPort rules.
      const podNetwork = host.network ? undefined : network;
      const setup = podNetwork?.setup(uid, { hostPorts: config.hostPorts, podName }).catch((e) => {
        throw new RuntimeError("CreatePodSandboxError", `pod ${podName}: network: ${(e as Error).message}`);
      });
      destroySandboxNamespaces(p); // a stale half-made sandbox (crash, reboot)
      const failEarly = async (e: unknown): Promise<never> => {
        destroySandboxNamespaces(p);
        if (
          setup &&
          (await setup.then(
            () => true,
            () => false,
          ))
        )
          await network!.teardown(uid).catch(() => {});
        throw e;
      };
      try {
        createIpcUts(p, config.hostname, { ipc: host.ipc, uts: host.network });
      } catch (e) {
        await failEarly(new RuntimeError("CreatePodSandboxError", `pod ${podName}: ${(e as Error).message}`));
      }
      try {
        preparePodCgroupV2(cg, uid);
        applyPodLimits(cg, uid, config.resources);
      } catch (e) {
        await failEarly(e);
      }
      let net: { ip: string; netnsPath: string } | undefined;
      try {
        net = await setup;
      } catch (e) {
        destroySandboxNamespaces(p);
        throw e;
      }
      const ip = net?.ip;
      if (!host.network) {
        try {
          await attachNetns(p, net?.netnsPath);
        } catch (e) {
          if (network) await network.teardown(uid).catch(() => {});
          throw new RuntimeError("CreatePodSandboxError", `pod ${podName}: ${(e as Error).message}`);
        }
      }
      // On the host's UTS namespace the pod's hostname is the machine's, and /etc/hosts is the
      // host's own (plus hostAliases), as the kubelet gives hostNetwork pods.
      const hostname = host.network ? hostHostname() : config.hostname;
      writeInitLayer(layout.initLayer(uid), {
        hostname,
        ip,
        hostAliases: config.hostAliases,
        resolvConf: resolvConf(config.dns),
        ...(host.network ? { hostsBase: readHostsFile() } : {}),
      });
      const rec: SandboxRecord = {
        podUid: uid,
        namespace: config.namespace,
        name: config.name,
        hostname,
        ...(ip ? { ip } : {}),
        ready: true,
        createdAt: existing?.createdAt ?? new Date().toISOString(),
        networkManaged: podNetwork !== undefined,
        ...(host.network || host.pid || host.ipc ? { hostNamespaces: { ...host } } : {}),
        bootId: deps.bootId,
      };
      save(rec);
      sandboxes.set(uid, rec);
      return rec;
    },

    async stop(podUid) {
      const sb = sandboxes.get(podUid);
      if (!sb?.ready) return;
      await releaseNetwork(sb);
      sb.ready = false;
      save(sb);
    },

    async remove(podUid) {
      const sb = sandboxes.get(podUid);
      if (sb) await releaseNetwork(sb); // also after a reboot: the pod's address is still allocated
      const p = layout.sandbox(podUid);
      if (existsSync(p.dir)) {
        destroySandboxNamespaces(p);
        releaseVolumes(layout.volumes(podUid));
        removeSandboxDir(p);
      }
      await removeCgroup(cg, podCgroupPath(cg, podUid));
      removeEmptyMinikRoot(cg);
      removeDir(layout.pod(podUid));
      sandboxes.delete(podUid);
    },

    get: (podUid) => sandboxes.get(podUid),
    list: () => [...sandboxes.values()],
  };
}
