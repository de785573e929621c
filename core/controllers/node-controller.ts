import type { Node, NodeCondition, NodeStatus, Taint } from "kubernetes-types/core/v1";
import { parseTime, timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { formatKi } from "../quantity.ts";
import { VERSION } from "../version.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import type { HostInfo, HostInfoSource } from "./host-info.ts";
import type { Kube } from "./owner-references.ts";
import { UNSCHEDULABLE_TAINT } from "./scheduler.ts";

const NOT_READY_TAINT = "node.kubernetes.io/not-ready";

/** The kubelet's nodeStatusReportFrequency. */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

/** Eviction thresholds of a default kubelet: below these the node reports pressure. */
const MEMORY_EVICTION_BYTES = 100 * 2 ** 20;
const DISK_EVICTION_FRACTION = 0.1;
const PID_PRESSURE_FRACTION = 0.9;

export interface NodeControllerOptions {
  nodeName: string;
  hostInfo: HostInfoSource;
  /** How often the node's status is computed and posted when it changed (kubelet: 10 s). */
  heartbeatMs?: number;
  /**
   * How often an unchanged status is posted anyway (kubelet's nodeStatusReportFrequency: 5 min).
   * The node's Lease carries the 10 s heartbeat; a Node write every 10 s would wake every Node
   * informer (scheduler, DaemonSets, taints, the dashboard) for nothing.
   */
  reportMs?: number;
  /**
   * Whether the node can run pods. When false (minik up --runtime none) the node is NotReady and
   * tainted not-ready:NoSchedule, so pods stay Pending with that reason. Default: ready.
   */
  runtimeReady?: () => RuntimeReadiness | Promise<RuntimeReadiness>;
  /** A node that joined (`minik agent`) is no control plane: it carries no such role label. */
  controlPlane?: boolean;
}

/** Ready or not; a not-ready answer may say why (the node's failing health checks). */
export type RuntimeReadiness = boolean | { ready: boolean; message?: string };

/**
 * Keeps the Node object for this machine, as a kubelet registers and heartbeats its node:
 * capacity and allocatable, addresses, nodeInfo, conditions from the real host figures, and the
 * unschedulable taint that follows `spec.unschedulable` (kubectl cordon).
 */
export function createNodeController(ctx: ControllerContext, options: NodeControllerOptions): Controller {
  const { client, informers, clock } = ctx;
  const { nodeName, hostInfo, heartbeatMs = 10_000, runtimeReady = () => true } = options;
  const reportMs = Math.max(heartbeatMs, options.reportMs ?? NODE_STATUS_REPORT_MS);
  const nodes = informers.for<Kube<Node>>("nodes");
  const controller = createController({ name: "node", log: ctx.log, reconcile, workers: 1 });
  nodes.onEvent((e) => {
    if (e.object.metadata.name === nodeName) controller.enqueue(nodeName);
  });
  return controller;

  async function reconcile() {
    const info = await hostInfo();
    const readiness = await runtimeReady();
    const ready = typeof readiness === "boolean" ? readiness : readiness.ready;
    const why = typeof readiness === "boolean" ? undefined : readiness.message;
    let node = nodes.get("", nodeName) ?? (await client.tryGet<Kube<Node>>("nodes", "", nodeName));
    if (!node) {
      node = await client.create<Kube<Node>>("nodes", {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: nodeName, labels: nodeLabels(nodeName, info, options.controlPlane ?? true) },
        spec: {},
      });
      nodes.observe(node);
    }
    const taints = syncedTaints(node, ready, timestamp(clock));
    if (taints) {
      node = await client.update<Kube<Node>>("nodes", {
        ...node,
        spec: { ...node.spec, taints: taints.length ? taints : undefined },
      });
      nodes.observe(node);
    }
    const status = nodeStatus(node.status, info, ready, clock.now(), timestamp(clock), reportMs, why);
    if (status) nodes.observe(await client.updateStatus<Kube<Node>>("nodes", { ...node, status }));
    return { requeueAfterMs: heartbeatMs };
  }
}

function nodeLabels(name: string, info: HostInfo, controlPlane: boolean): Record<string, string> {
  return {
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": info.operatingSystem,
    "kubernetes.io/arch": info.architecture,
    "beta.kubernetes.io/os": info.operatingSystem,
    "beta.kubernetes.io/arch": info.architecture,
    ...(controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
  };
}

/**
 * The node's taints with those the node controller manages brought in line: unschedulable
 * follows spec.unschedulable (cordon), not-ready (NoSchedule and NoExecute) follows the runtime's
 * health. undefined = unchanged.
 */
export function syncedTaints(node: Node, ready: boolean, now: string): Taint[] | undefined {
  // not-ready:NoExecute is what evicts the node's pods once their toleration (300 s by default,
  // added at admission) runs out — see taint-eviction-controller.ts
  const managed: [string, "NoSchedule" | "NoExecute", boolean][] = [
    [UNSCHEDULABLE_TAINT, "NoSchedule", !!node.spec?.unschedulable],
    [NOT_READY_TAINT, "NoSchedule", !ready],
    [NOT_READY_TAINT, "NoExecute", !ready],
  ];
  let taints = node.spec?.taints ?? [];
  let changed = false;
  for (const [key, effect, wanted] of managed) {
    const has = taints.some((t) => t.key === key && t.effect === effect);
    if (has === wanted) continue;
    changed = true;
    taints = wanted
      ? [...taints, { key, effect, timeAdded: now }]
      : taints.filter((t) => !(t.key === key && t.effect === effect));
  }
  return changed ? taints : undefined;
}

/**
 * The node status to post, or undefined when nothing but the heartbeat would change and the
 * last heartbeat is more recent than `reportMs` (so a reconcile run twice writes once).
 */
export function nodeStatus(
  old: NodeStatus | undefined,
  info: HostInfo,
  ready: boolean,
  now: number,
  nowText: string,
  reportMs: number,
  notReadyMessage = "no container runtime: minik up runs with --runtime none (or not as root), so pods stay Pending",
): NodeStatus | undefined {
  const capacity = {
    cpu: String(info.cpuCores),
    memory: formatKi(info.memoryTotalBytes),
    pods: String(info.maxPods),
    "ephemeral-storage": formatKi(info.diskTotalBytes),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
  };
  const allocatable = {
    ...capacity,
    memory: formatKi(Math.max(0, info.memoryTotalBytes - MEMORY_EVICTION_BYTES)),
  };
  const memoryPressure = info.memoryAvailableBytes < MEMORY_EVICTION_BYTES;
  const diskPressure =
    info.diskTotalBytes > 0 && info.diskAvailableBytes / info.diskTotalBytes < DISK_EVICTION_FRACTION;
  const pidPressure = info.pidsInUse > info.pidMax * PID_PRESSURE_FRACTION;
  const wanted: NodeCondition[] = [
    pressure(
      "MemoryPressure",
      memoryPressure,
      "KubeletHasInsufficientMemory",
      "kubelet has insufficient memory available",
      "KubeletHasSufficientMemory",
      "kubelet has sufficient memory available",
    ),
    pressure(
      "DiskPressure",
      diskPressure,
      "KubeletHasDiskPressure",
      "kubelet has disk pressure",
      "KubeletHasNoDiskPressure",
      "kubelet has no disk pressure",
    ),
    pressure(
      "PIDPressure",
      pidPressure,
      "KubeletHasInsufficientPID",
      "kubelet has insufficient PID available",
      "KubeletHasSufficientPID",
      "kubelet has sufficient PID available",
    ),
    ready
      ? { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status" }
      : {
          type: "Ready",
          status: "False",
          reason: "KubeletNotReady",
          message: notReadyMessage,
        },
  ];
  // Due a little early, so a requeue landing right on the report time posts.
  const heartbeatDue = (old?.conditions ?? []).some(
    (c) => !(now - parseTime(c.lastHeartbeatTime) < reportMs - 500),
  );
  const conditions = wanted.map((c) => {
    const prev = old?.conditions?.find((x) => x.type === c.type);
    const same = prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message;
    return {
      ...c,
      lastHeartbeatTime: same && !heartbeatDue ? prev.lastHeartbeatTime : nowText,
      lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : nowText,
    };
  });
  const status: NodeStatus = {
    ...old,
    capacity,
    allocatable,
    conditions,
    addresses: [
      ...(info.internalIP ? [{ type: "InternalIP", address: info.internalIP }] : []),
      { type: "Hostname", address: info.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: info.kubeletPort ?? 10250 } },
    nodeInfo: {
      machineID: info.machineID,
      systemUUID: info.systemUUID,
      bootID: info.bootID,
      kernelVersion: info.kernelVersion,
      osImage: info.osImage,
      containerRuntimeVersion: info.containerRuntimeVersion,
      kubeletVersion: VERSION.gitVersion,
      kubeProxyVersion: VERSION.gitVersion,
      operatingSystem: info.operatingSystem,
      architecture: info.architecture,
    },
  };
  return deepEqual(status, old) ? undefined : status;
}

function pressure(
  type: string,
  on: boolean,
  onReason: string,
  onMessage: string,
  offReason: string,
  offMessage: string,
): NodeCondition {
  return on
    ? { type, status: "True", reason: onReason, message: onMessage }
    : { type, status: "False", reason: offReason, message: offMessage };
}
