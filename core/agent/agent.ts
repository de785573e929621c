import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type {
  ConfigMap,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  ServiceAccountTokenProjection,
} from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { EventRecorder } from "../events.ts";
import { type Clock, systemClock } from "../loop/clock.ts";
import { processQueue } from "../loop/queue-workers.ts";
import { createWorkQueue, type WorkQueue } from "../loop/work-queue.ts";
import type { KubeObject, WatchEvent } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";
import type { DuplexStream, NodeServices } from "../seams/node-services.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { createNodeLease } from "./node-lease.ts";
import { createNodeServices } from "./node-services.ts";
import { PodMemory } from "./pod-memory.ts";
import { asObject, podKey } from "./pod-names.ts";
import { syncPod } from "./pod-sync.ts";
import { orphanGraceSeconds, sweepOrphans } from "./pod-teardown.ts";
import { createProbeManager, probeLabel } from "./probes.ts";
import type { ClusterDns, HostDns } from "./sandbox.ts";
import { createTokenRefresher } from "./token-refresh.ts";

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
/** When a pod sync failed unexpectedly. */
const SYNC_RETRY_MS = 2000;

export function createNodeAgent(options: NodeAgentOptions): NodeAgent {
  const { client, runtime, nodeName } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((m: string) => console.error(`node agent: ${m}`));
  const memory = new PodMemory(clock.now);
  const queue = createWorkQueue({ clock });
  /** Runtime and probe events carry a pod uid: sync the pod running under it, if any. */
  const wake = (uid: string) => {
    const key = memory.keyOf(uid);
    if (key) queue.add(key);
  };
  const deps = agentDeps(options, { clock, log, memory, queue, wake });
  const lease = createNodeLease({ client, nodeName, clock, log });
  const tokens = createTokenRefresher({
    client,
    runtime,
    nodeName,
    clock,
    log,
    tokenFor: options.serviceAccountToken,
  });
  // Every pod syncs on its own (one slow image pull must not hold up other pods); one pod's
  // syncs never overlap.
  void processQueue(queue, Number.POSITIVE_INFINITY, (key) => syncOrRetry(deps, queue, key));

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
    if (pod.spec?.nodeName !== nodeName && !memory.isTracked(key)) return;
    if (event.type === "DELETED") {
      seen.delete(key);
      queue.add(key);
      // Force-deleted (or its grace cut short) while a graceful stop may be under way: the
      // queued sync waits behind that stop, so shorten it here (the runtime cuts a running grace).
      graceSeen.delete(pod.metadata?.uid ?? "");
      hurryStop(pod.metadata?.uid, orphanGraceSeconds(pod.spec?.terminationGracePeriodSeconds));
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
    for (const p of mine)
      memory.track(podKey(p), p.metadata?.uid ?? "", p.spec?.terminationGracePeriodSeconds);
    // Only uids absent from both the store and in-flight syncs are orphans.
    for (const uid of memory.trackedUids()) keep.add(uid);
    await sweepOrphans(deps, runtimeUids, keep);
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
        if (e.type === "oom") memory.oomKill(e.containerId);
        wake(e.podUid);
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
      queue.shutDown();
      deps.probes.stopAll();
      // A sync may be in a long image pull or a 30 s grace period; every step is safe to redo,
      // so minik's shutdown waits only briefly for it (the next start picks the pod up again).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([queue.idle(), new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    },
    nodeServices: createNodeServices({ client, runtime, nodeName, dial: options.dial }),
    idle: () => queue.idle(),
  };
}

/** The agent's fixed dependencies, built in one go around its own memory and queue. */
function agentDeps(
  options: NodeAgentOptions,
  own: {
    clock: Clock;
    log: (message: string) => void;
    memory: PodMemory;
    queue: WorkQueue;
    wake: (uid: string) => void;
  },
): AgentDeps {
  const { client, runtime, nodeName, dial, events } = options;
  const { clock, memory, queue, wake } = own;
  let hostIP = options.hostIP;
  return {
    client,
    runtime,
    nodeName,
    events,
    clock,
    dial,
    clusterDns: options.clusterDns,
    hostDns: options.hostDns ?? readHostDns(),
    hostIP: async () => (hostIP ??= await nodeInternalIP(client, nodeName)),
    sources: {
      configMap: (ns, name) => client.tryGet<ConfigMap & KubeObject>("configmaps", ns, name),
      secret: (ns, name) => client.tryGet<Secret & KubeObject>("secrets", ns, name),
      claims: {
        persistentVolumeClaim: (ns, name) =>
          client.tryGet<PersistentVolumeClaim & KubeObject>("persistentvolumeclaims", ns, name),
        persistentVolume: (name) =>
          client.tryGet<PersistentVolume & KubeObject>("persistentvolumes", "", name),
      },
    },
    nodeAllocatable: options.nodeAllocatable ?? { cpuMillis: cpus().length * 1000, memoryBytes: totalmem() },
    serviceAccountToken: options.serviceAccountToken,
    probes: createProbeManager({
      runtime,
      runtimeName: runtime.name,
      clock,
      dial,
      onChange: wake,
      onKill: (uid, containerId, kind, message) => {
        memory.requestKill(containerId, { kind, message });
        wake(uid);
      },
      onFailure: (pod, _container, kind, message) => {
        events.record(asObject(pod), "Warning", "Unhealthy", `${probeLabel(kind)} probe failed: ${message}`);
      },
    }),
    memory,
    requeueAfter: (key, ms) => queue.addAfter(key, ms),
    log: own.log,
  };
}

/** One pod sync; a failure tries again in 2 s, a conflict at once (the pod just changed). */
async function syncOrRetry(deps: AgentDeps, queue: WorkQueue, key: string): Promise<void> {
  try {
    await syncPod(deps, key);
  } catch (e) {
    if (isApiError(e, "Conflict")) {
      queue.add(key);
      return;
    }
    deps.log(`syncing pod ${key}: ${e instanceof Error ? e.message : e}`);
    queue.addAfter(key, SYNC_RETRY_MS);
  }
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
