import { existsSync, readFileSync } from "node:fs";
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

export function createPodSandboxes(deps: PodSandboxDeps): PodSandboxes {
  const { layout, cgroups: cg, network } = deps;
  const sandboxes = new Map<string, SandboxRecord>();
  const save = (r: SandboxRecord) => writeRecord(`${ensureDir(layout.pod(r.podUid))}/sandbox.json`, r);

  // A sandbox whose namespace mounts are gone (reboot, or someone unmounted them) is
  // remade by the next run rather than joined (setns would fail).
  const nsfs = nsfsMountPoints();
  for (const s of readRecords<SandboxRecord>(layout.podsDir, "sandbox.json")) {
    if (s.bootId !== deps.bootId || !nsfs.has(layout.sandbox(s.podUid).net)) s.ready = false;
    sandboxes.set(s.podUid, s);
  }

  /** The pod keeps its IPC/UTS namespaces until removal; the network goes at stop. */
  async function releaseNetwork(sb: SandboxRecord): Promise<void> {
    umount(layout.sandbox(sb.podUid).net);
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
      // The network's processes run while this thread makes the IPC/UTS namespaces and cgroup.
      const setup = network?.setup(uid, { hostPorts: config.hostPorts, podName }).catch((e) => {
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
        createIpcUts(p, config.hostname);
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
      try {
        await attachNetns(p, net?.netnsPath);
      } catch (e) {
        if (network) await network.teardown(uid).catch(() => {});
        throw new RuntimeError("CreatePodSandboxError", `pod ${podName}: ${(e as Error).message}`);
      }
      writeInitLayer(layout.initLayer(uid), {
        hostname: config.hostname,
        ip,
        hostAliases: config.hostAliases,
        resolvConf: resolvConf(config.dns),
      });
      const rec: SandboxRecord = {
        podUid: uid,
        namespace: config.namespace,
        name: config.name,
        hostname: config.hostname,
        ...(ip ? { ip } : {}),
        ready: true,
        createdAt: existing?.createdAt ?? new Date().toISOString(),
        networkManaged: network !== undefined,
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
