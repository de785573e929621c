import type { ContainerStats, ExecOptions, ExecSession, LogOptions } from "./container-runtime.ts";
import type { ContainerInspection } from "./inspection.ts";

/**
 * What the API server asks of the node, the way kube-apiserver asks the kubelet: logs, exec,
 * port-forward and stats, addressed by pod and container name. The node agent implements it by
 * mapping names to runtime container ids; the API server knows nothing of containers.
 * Errors are ApiErrors (NotFound for an unknown pod/container, BadRequest for a stopped one).
 */
export interface NodeServices {
  logs(
    namespace: string,
    pod: string,
    container: string | undefined,
    options: LogOptions & { previous?: boolean },
  ): Promise<ReadableStream<Uint8Array>>;
  exec(
    namespace: string,
    pod: string,
    container: string | undefined,
    command: string[],
    options: ExecOptions,
  ): Promise<ExecSession>;
  /**
   * `kubectl attach` and `kubectl run -i`: a session on the container's main process (its stdin,
   * its output from now on) instead of a new process. BadRequest when the container is not running.
   */
  attach(
    namespace: string,
    pod: string,
    container: string | undefined,
    options: ExecOptions,
  ): Promise<ExecSession>;
  /** Opens a TCP connection to the pod's port (inside its network namespace). */
  portForward(namespace: string, pod: string, port: number): Promise<DuplexStream>;
  /** Per-container usage for metrics.k8s.io and `top pods`. */
  podStats(namespace?: string): Promise<PodStats[]>;
  nodeStats(): Promise<{ cpuUsageNanoSeconds: number; memoryWorkingSetBytes: number; timestamp: string }>;
  /**
   * `minik inspect`: the newest attempt of a container (default: the pod's default container) as
   * the host sees it. An exited container still shows its layers; one never started is BadRequest.
   */
  inspect(namespace: string, pod: string, container: string | undefined): Promise<ContainerInspection>;
}

export interface DuplexStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close(): void;
}

export interface PodStats {
  namespace: string;
  name: string;
  containers: (ContainerStats & { name: string })[];
}
