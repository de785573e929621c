import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { ConfigMap, Node, Pod, Secret, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { EventRecorder } from "../events.ts";
import type { KubeObject, WatchEvent } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";
import type { DuplexStream, NodeServices } from "../seams/node-services.ts";
import { type AgentContext, asObject, podKey } from "./agent-context.ts";
import { Backoff } from "./backoff.ts";
import { type Clock, systemClock } from "./clock.ts";
import { createNodeLease } from "./node-lease.ts";
import { createNodeServices } from "./node-services.ts";
import { syncPod } from "./pod-sync.ts";
import { ORPHAN_GRACE_SECONDS, sweepOrphans } from "./pod-teardown.ts";
import { createProbeManager, probeLabel } from "./probes.ts";
import type { ClusterDns, HostDns } from "./sandbox.ts";
import { createTokenRefresher } from "./token-refresh.ts";
import { createWorkQueue } from "./work-queue.ts";

/**
 * The node agent (minik's kubelet): keeps the runtime running exactly the pods bound to this
 * node. Pod keys are queued by pod watch events, runtime exit/OOM events (at once) and a periodic
 * resync; each key is reconciled by syncPod. On start it adopts what the runtime already runs and
 * removes what belongs to pods that no longer exist.
 */
export interface NodeAgentOptions {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  events: EventRecorder;
  clusterDns: ClusterDns;
  /** Resolver for dnsPolicy Default (the host's). */
  hostDns?: HostDns;
  /** The node's address (status.hostIP); else read from the Node object's InternalIP. */
  hostIP?: string;
  /** Opens TCP to a pod IP (tcpSocket probes, hooks, port-forward): the node's network. */
  dial: (ip: string, port: number) => Promise<DuplexStream>;
  clock?: Clock;
  /** Full re-list and orphan sweep period (default 10 s). */
  resyncIntervalMs?: number;
  /** For resourceFieldRef of unset limits (default: this machine). */
  nodeAllocatable?: { cpuMillis: number; memoryBytes: number };
  /** Content of projected serviceAccountToken files. */
  serviceAccountToken?: (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;
  log?: (message: string) => void;
}

export interface NodeAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  nodeServices: NodeServices;
  /** Resolves when no pod sync is running (tests). */
  idle(): Promise<void>;
}

type PodObject = Pod & KubeObject;

/** How long stop() waits for in-flight pod syncs. */
const STOP_WAIT_MS = 1000;

export function createNodeAgent(options: NodeAgentOptions): NodeAgent {
  const { client, runtime, nodeName } = options;
  const clock = options.clock ?? systemClock;
  const dial = options.dial;
  const log = options.log ?? ((m: string) => console.error(`node agent: ${m}`));
  let hostIP = options.hostIP;

  const ctx: AgentContext = {
    client,
    runtime,
    nodeName,
    events: options.events,
    clock,
    dial,
    clusterDns: options.clusterDns,
    hostDns: options.hostDns ?? readHostDns(),
    hostIP: async () => (hostIP ??= await nodeInternalIP(client, nodeName)),
    sources: {
      configMap: (ns, name) => client.tryGet<ConfigMap & KubeObject>("configmaps", ns, name),
      secret: (ns, name) => client.tryGet<Secret & KubeObject>("secrets", ns, name),
    },
    nodeAllocatable: options.nodeAllocatable ?? { cpuMillis: cpus().length * 1000, memoryBytes: totalmem() },
    serviceAccountToken: options.serviceAccountToken,
    probes: undefined as never,
    restartBackoff: new Backoff(clock.now),
    pullBackoff: new Backoff(clock.now),
    pulledImages: new Set(),
    killRequests: new Map(),
    startedImages: new Map(),
    stopping: new Set(),
    oomKilled: new Set(),
    sandboxFailures: new Map(),
    logMessages: new Map(),
    tracked: new Map(),
    requeueAfter: (key, ms) => queue.addAfter(key, ms),
    log,
  };
  const lease = createNodeLease({ client, nodeName, clock, log });
  const tokens = createTokenRefresher({
    client,
    runtime,
    nodeName,
    clock,
    log,
    tokenFor: options.serviceAccountToken,
  });
  const keyOfUid = (uid: string) => [...ctx.tracked].find(([, u]) => u === uid)?.[0];

  ctx.probes = createProbeManager({
    runtime,
    runtimeName: runtime.name,
    clock,
    dial,
    onChange: (uid) => {
      const key = keyOfUid(uid);
      if (key) queue.add(key);
    },
    onKill: (uid, containerId, kind, message) => {
      ctx.killRequests.set(containerId, { kind, message });
      const key = keyOfUid(uid);
      if (key) queue.add(key);
    },
    onFailure: (pod, container, kind, message) => {
      ctx.events.record(
        asObject(pod),
        "Warning",
        "Unhealthy",
        `${probeLabel(kind)} probe failed: ${message}`,
      );
      void container;
    },
  });

  const queue = createWorkQueue(
    (key) => syncPod(ctx, key),
    clock,
    (key, e) => {
      if (isApiError(e, "Conflict")) return 0;
      log(`syncing pod ${key}: ${e instanceof Error ? e.message : e}`);
      return 2000;
    },
  );

  /** Grace period of each pod's deletion as last seen, to notice it being shortened. */
  const graceSeen = new Map<string, number>();
  function hurryStop(uid: string | undefined, graceSeconds: number): void {
    if (!uid) return;
    void runtime
      .listContainers()
      .then((all) =>
        Promise.all(
          all
            .filter((c) => c.podUid === uid && c.state === "running")
            .map((c) => runtime.stopContainer(c.id, graceSeconds)),
        ),
      )
      .catch((e) => log(`shortening the stop of pod ${uid}: ${e instanceof Error ? e.message : e}`));
  }

  /** Last seen spec/deletion fingerprint per key: status-only changes (ours) need no sync. */
  const seen = new Map<string, string>();
  const fingerprint = (pod: Pod) =>
    JSON.stringify([pod.metadata?.uid, pod.metadata?.deletionTimestamp ?? null, pod.spec]);

  function onPodEvent(event: WatchEvent): void {
    const pod = event.object as PodObject;
    const key = podKey(pod);
    if (pod.spec?.nodeName !== nodeName && !ctx.tracked.has(key)) return;
    if (event.type === "DELETED") {
      seen.delete(key);
      queue.add(key);
      // Force-deleted (or its grace cut short) while a graceful stop may be under way: the
      // queued sync waits behind that stop, so shorten it here (the runtime cuts a running grace).
      graceSeen.delete(pod.metadata?.uid ?? "");
      hurryStop(pod.metadata?.uid, ORPHAN_GRACE_SECONDS);
      return;
    }
    const grace = pod.metadata?.deletionGracePeriodSeconds;
    if (grace !== undefined && grace < (graceSeen.get(pod.metadata?.uid ?? "") ?? Number.POSITIVE_INFINITY)) {
      if (graceSeen.has(pod.metadata?.uid ?? "")) hurryStop(pod.metadata?.uid, grace);
      graceSeen.set(pod.metadata?.uid ?? "", grace);
    }
    const print = fingerprint(pod);
    if (event.type === "MODIFIED" && seen.get(key) === print) return;
    seen.set(key, print);
    queue.add(key);
  }

  let stopWatch: (() => void) | undefined;
  let stopEvents: (() => void) | undefined;
  let resyncTimer: unknown;
  let stopped = false;

  /** Re-lists everything: enqueues this node's pods and removes the runtime's orphans. */
  async function resync(): Promise<string> {
    const sandboxes = await runtime.listPodSandboxes();
    const containers = await runtime.listContainers();
    const runtimeUids = new Set([...sandboxes.map((s) => s.podUid), ...containers.map((c) => c.podUid)]);
    const { items, resourceVersion } = await client.list<PodObject>("pods");
    const mine = items.filter((p) => p.spec?.nodeName === nodeName);
    const keep = new Set(mine.map((p) => p.metadata?.uid ?? ""));
    for (const p of mine) ctx.tracked.set(podKey(p), p.metadata?.uid ?? "");
    // Only uids absent from both the store and in-flight syncs are orphans.
    for (const uid of ctx.tracked.values()) keep.add(uid);
    await sweepOrphans(ctx, runtimeUids, keep);
    for (const p of mine) {
      seen.set(podKey(p), fingerprint(p));
      queue.add(podKey(p));
    }
    return resourceVersion;
  }

  function scheduleResync(): void {
    resyncTimer = clock.setTimeout(() => {
      if (stopped) return;
      resync()
        .catch((e) => log(`resync: ${e instanceof Error ? e.message : e}`))
        .finally(() => !stopped && scheduleResync());
    }, options.resyncIntervalMs ?? 10_000);
  }

  return {
    async start() {
      stopEvents = runtime.onEvent((e) => {
        if (e.type === "oom") ctx.oomKilled.add(e.containerId);
        const key = keyOfUid(e.podUid);
        if (key) queue.add(key);
      });
      const resourceVersion = await resync();
      stopWatch = await client.watch("pods", { resourceVersion }, onPodEvent);
      scheduleResync();
      await lease.start();
      tokens.start();
    },
    async stop() {
      stopped = true;
      lease.stop();
      tokens.stop();
      stopWatch?.();
      stopEvents?.();
      clock.clearTimeout(resyncTimer);
      queue.stop();
      ctx.probes.stopAll();
      // A sync may be in a long image pull or a 30 s grace period; every step is safe to redo,
      // so minik's shutdown waits only briefly for it (the next start picks the pod up again).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([queue.idle(), new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    },
    nodeServices: createNodeServices({ client, runtime, nodeName, dial }),
    idle: () => queue.idle(),
  };
}

/** The host's /etc/resolv.conf, for pods with dnsPolicy Default (empty when unreadable). */
export function readHostDns(path = "/etc/resolv.conf"): HostDns {
  const dns: HostDns = { nameservers: [], searches: [] };
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return dns;
  }
  for (const line of text.split("\n")) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === "nameserver" && values[0]) dns.nameservers.push(values[0]);
    if (key === "search" || key === "domain") dns.searches = values;
  }
  return dns;
}

async function nodeInternalIP(client: Client, nodeName: string): Promise<string | undefined> {
  const node = await client.tryGet<Node & KubeObject>("nodes", "", nodeName).catch(() => undefined);
  return node?.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
}
