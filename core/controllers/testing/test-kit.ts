import type { Pod } from "kubernetes-types/core/v1";
import { createEventRecorder } from "../../events.ts";
import { systemClock, timestamp } from "../../loop/clock.ts";
import type { KubeObject } from "../../object.ts";
import { createRegistry, type Registry } from "../../registry/registry.ts";
import type { Client } from "../../seams/client.ts";
import { createSqlStore } from "../../store/sql-store.ts";
import type { Store } from "../../store/store.ts";
import type { ControllerContext } from "../controller.ts";
import type { HostInfo } from "../host-info.ts";
import type { Informers } from "../informer.ts";
import { type ControllerManager, type ControllerManagerOptions, startControllers } from "../manager.ts";
import type { Kube } from "../owner-references.ts";
import { isPodReady } from "../pods.ts";

/**
 * A control plane for controller tests: the real registry over an in-memory SqlStore, the
 * controllers, and a stand-in for the node agent (there is no runtime here) that marks bound
 * pods Running and Ready, and finishes graceful deletions.
 */
export const TEST_NODE = "minik-test";

export function testHostInfo(overrides: Partial<HostInfo> = {}): HostInfo {
  return {
    hostname: TEST_NODE,
    internalIP: "192.0.2.10",
    kernelVersion: "6.1.0-test",
    osImage: "Debian GNU/Linux 12 (bookworm)",
    operatingSystem: "linux",
    architecture: "amd64",
    containerRuntimeVersion: "crun://1.8.1",
    machineID: "0123456789abcdef0123456789abcdef",
    systemUUID: "0123456789abcdef0123456789abcdef",
    bootID: "boot",
    cpuCores: 2,
    memoryTotalBytes: 4 * 2 ** 30,
    memoryAvailableBytes: 3 * 2 ** 30,
    diskTotalBytes: 100 * 2 ** 30,
    diskAvailableBytes: 50 * 2 ** 30,
    pidMax: 4_194_304,
    pidsInUse: 200,
    maxPods: 110,
    ...overrides,
  };
}

/** The context one controller under test gets: the registry as client, real events, real time. */
export function testControllerContext(registry: Registry, informers: Informers): ControllerContext {
  return {
    client: registry,
    informers,
    events: (c) => createEventRecorder(registry, c),
    clock: systemClock,
    log: () => {},
  };
}

export interface TestCluster {
  client: Registry;
  store: Store;
  manager: ControllerManager;
  kubelet: FakeKubelet;
  /** Controller errors logged so far (a test may assert there were none). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestCluster(
  options: Partial<Omit<ControllerManagerOptions, "client">> & {
    host?: Partial<HostInfo>;
    autoReady?: boolean;
  } = {},
): Promise<TestCluster> {
  const store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  const logs: string[] = [];
  const host = testHostInfo(options.host);
  const manager = await startControllers({
    nodeName: TEST_NODE,
    hostInfo: async () => host,
    log: (m) => logs.push(m),
    ...options,
    client,
  });
  const kubelet = await startFakeKubelet(client, TEST_NODE, options.autoReady ?? true);
  return {
    client,
    store,
    manager,
    kubelet,
    logs,
    async stop() {
      kubelet.stop();
      await manager.stop();
      await store.close();
    },
  };
}

export interface FakeKubelet {
  /** Whether pods bound to the node become Running and Ready by themselves. */
  autoReady: boolean;
  /** Whether pods being deleted gracefully are removed at once (a stopped container). */
  finishDeletions: boolean;
  setReady(namespace: string, name: string, ready: boolean): Promise<void>;
  stop(): void;
}

/** What the node agent would publish for a running pod, without running anything. */
export async function startFakeKubelet(
  client: Client,
  nodeName: string,
  autoReady: boolean,
): Promise<FakeKubelet> {
  const busy = new Set<string>();
  const nextIp = podIpAllocator();
  const kubelet: FakeKubelet = {
    autoReady,
    finishDeletions: true,
    async setReady(namespace, name, ready) {
      const pod = await client.get<Kube<Pod>>("pods", namespace, name);
      await client.updateStatus("pods", { ...pod, status: runningStatus(pod, ready, nextIp) });
    },
    stop: () => stopWatch(),
  };
  const handle = async (pod: Kube<Pod>) => {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (pod.spec?.nodeName !== nodeName || busy.has(key)) return;
    busy.add(key);
    try {
      if (pod.metadata.deletionTimestamp) {
        if (!kubelet.finishDeletions) return;
        await client.delete("pods", pod.metadata.namespace!, pod.metadata.name!, { gracePeriodSeconds: 0 });
      } else if (kubelet.autoReady && !["Running", "Succeeded", "Failed"].includes(pod.status?.phase ?? "")) {
        await client.updateStatus("pods", { ...pod, status: runningStatus(pod, true, nextIp) });
      }
    } catch {
      // Gone or changed meanwhile: the next event brings the new state.
    } finally {
      busy.delete(key);
    }
  };
  const stopWatch = await client.watch("pods", {}, (e) => {
    if (e.type !== "DELETED") void handle(e.object as Kube<Pod>);
  });
  return kubelet;
}

/**
 * Pod IPs of one fake kubelet: host addresses of 10.88.0.0/16 in order (never a .0 or .255),
 * each handed out once, as the node's IPAM would.
 */
export function podIpAllocator(): () => string {
  let n = 0;
  return () => {
    if (n >= 254 * 256) throw new Error("fake kubelet: 10.88.0.0/16 is exhausted");
    const ip = `10.88.${Math.floor(n / 254)}.${(n % 254) + 1}`;
    n++;
    return ip;
  };
}

function runningStatus(pod: Kube<Pod>, ready: boolean, nextIp: () => string): Pod["status"] {
  const now = timestamp(systemClock);
  const wasReady = isPodReady(pod);
  const readyTime =
    wasReady === ready
      ? (pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? now)
      : now;
  const state = ready ? "True" : "False";
  return {
    ...pod.status,
    phase: "Running",
    hostIP: "192.0.2.10",
    podIP: pod.status?.podIP ?? nextIp(),
    startTime: pod.status?.startTime ?? now,
    conditions: [
      { type: "PodScheduled", status: "True", lastTransitionTime: now },
      { type: "Initialized", status: "True", lastTransitionTime: now },
      { type: "ContainersReady", status: state, lastTransitionTime: readyTime },
      { type: "Ready", status: state, lastTransitionTime: readyTime },
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? "",
      imageID: "",
      ready,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    })),
  };
}

/** A Deployment `name` selecting `app: name`, with one container (image nginx:1.25 unless told). */
export function deploymentManifest(
  name: string,
  {
    replicas = 1,
    container = {},
    spec = {},
  }: { replicas?: number; container?: Record<string, unknown>; spec?: Record<string, unknown> } = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "web", image: "nginx:1.25", ...container }] },
      },
      ...spec,
    },
  };
}

/** An autoscaling/v2 HPA on Deployment `name`: CPU at 50% of requests unless told. */
export function hpaManifest(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } },
        },
      ],
      ...spec,
    },
  };
}

/** Objects of a resource in a namespace, for assertions. */
export async function listAll<T extends KubeObject>(
  client: Client,
  resource: string,
  namespace = "default",
): Promise<T[]> {
  return (await client.list<T>(resource, { namespace })).items;
}

/** An apps/v1 DaemonSet `agent` of busybox, plus `spec` and pod `spec` fields. */
export function daemonSetManifest(
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { containers: [{ name: "agent", image: "busybox:1" }], ...podSpec },
      },
      ...spec,
    },
  };
}
