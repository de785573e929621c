import type { Pod, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { EventRecorder } from "../events.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";
import type { DuplexStream } from "../seams/node-services.ts";
import type { Backoff } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { ConfigSources } from "./env.ts";
import type { ProbeKind, ProbeManager } from "./probes.ts";
import type { ClusterDns, HostDns } from "./sandbox.ts";

/**
 * What one pod sync needs: the clients, and the agent's in-memory bookkeeping that is allowed to
 * be lost on restart (back-off, probe results, pending kills). Everything else is re-derived from
 * the store and the runtime on every sync.
 */
export interface AgentContext {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  events: EventRecorder;
  clock: Clock;
  /** TCP to a pod IP (tcpSocket probes and hooks). */
  dial: (ip: string, port: number) => Promise<DuplexStream>;
  clusterDns: ClusterDns;
  hostDns: HostDns;
  hostIP(): Promise<string | undefined>;
  sources: ConfigSources;
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  serviceAccountToken?: (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;
  probes: ProbeManager;
  /** Container restarts, key `<podUid>/<container>`. */
  restartBackoff: Backoff;
  /** Image pulls, key `<podUid>/<image>`. */
  pullBackoff: Backoff;
  /** Images this agent has pulled, for the kubelet's "already present on machine" event. */
  pulledImages: Set<string>;
  /** Containers to replace: a liveness/startup probe gave up, or the spec changed ("definition"). */
  killRequests: Map<string, { kind: ProbeKind | "definition"; message: string }>;
  /** The spec image each container was started from (to notice `kubectl set image` on a pod). */
  startedImages: Map<string, string>;
  /** Containers being stopped right now (a stop may take the grace period). */
  stopping: Set<string>;
  /** Log tails used as termination messages (FallbackToLogsOnError), by container id. */
  logMessages: Map<string, string>;
  /** Containers the runtime reported OOM-killed. */
  oomKilled: Set<string>;
  /** Consecutive sandbox failures per pod uid, for a short first retry that backs off. */
  sandboxFailures: Map<string, number>;
  /** Pod key (`ns/name`) → uid of the pod the agent runs under that name. */
  tracked: Map<string, string>;
  requeueAfter(key: string, ms: number): void;
  log(message: string): void;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** `name_namespace(uid)`, as the kubelet names a pod in messages. */
export function podDescription(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace ?? "default"}(${pod.metadata?.uid})`;
}

/** Pod as the KubeObject the event recorder wants. */
export function asObject(pod: Pod) {
  return { ...pod, apiVersion: "v1", kind: "Pod", metadata: pod.metadata ?? {} };
}

/** Forgets everything held in memory about a pod that is gone. */
export function forgetPod(ctx: AgentContext, uid: string): void {
  ctx.restartBackoff.forget(`${uid}/`);
  ctx.pullBackoff.forget(`${uid}/`);
  ctx.probes.removePod(uid);
  ctx.sandboxFailures.delete(uid);
}
