import type { Pod, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { EventRecorder } from "../events.ts";
import type { Clock } from "../loop/clock.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";
import type { DuplexStream } from "../seams/node-services.ts";
import type { ConfigSources } from "./env.ts";
import type { PodMemory } from "./pod-memory.ts";
import type { ProbeManager } from "./probes.ts";
import type { ClusterDns, HostDns } from "./sandbox.ts";

/**
 * What every pod sync is handed, built once when the agent is created and never reassigned: the
 * clients, the node's settings, the probe workers, and `memory`, the one owner of the per-pod
 * bookkeeping (which changes only through its verbs).
 */
export interface AgentDeps {
  readonly client: Client;
  readonly runtime: ContainerRuntime;
  readonly nodeName: string;
  readonly events: EventRecorder;
  readonly clock: Clock;
  /** TCP to a pod IP (tcpSocket probes and hooks). */
  readonly dial: (ip: string, port: number) => Promise<DuplexStream>;
  readonly clusterDns: ClusterDns;
  readonly hostDns: HostDns;
  /** The node's address (status.hostIP), looked up once. */
  readonly hostIP: () => Promise<string | undefined>;
  readonly sources: ConfigSources;
  readonly nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  readonly serviceAccountToken?: (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;
  readonly probes: ProbeManager;
  readonly memory: PodMemory;
  /** Syncs the pod `key` again after `ms` (time-based steps: back-off, deadlines). */
  readonly requeueAfter: (key: string, ms: number) => void;
  readonly log: (message: string) => void;
}
