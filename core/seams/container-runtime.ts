import type { ContainerInspection } from "./inspection.ts";

/**
 * The seam between the node agent (core/agent) and whatever really runs containers: `CrunRuntime`
 * on a real host, `FakeRuntime` in tests that need no root. Shaped like a small CRI: pod sandboxes
 * (network, IPC, UTS shared by a pod's containers) and containers inside them.
 *
 * Every method is idempotent where that makes sense (stop/remove of something gone is not an
 * error), so the agent's reconcile can call it again after a crash. Errors a user can cause
 * (bad image, missing registry) are thrown as `RuntimeError` with a Kubernetes-style reason.
 */

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

export class RuntimeError extends Error {
  constructor(
    /** Kubernetes waiting reason: ErrImagePull, ErrImageNeverPull, InvalidImageName, CreateContainerError, RunContainerError, … */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "RuntimeError";
  }
}

export interface PullProgress {
  image: string;
  /** layer digest, or "manifest"/"config" */
  item: string;
  done: number;
  total: number;
}

export interface ImageRef {
  /** Normalised name, e.g. `docker.io/library/nginx:1.7.9`. */
  name: string;
  /** Config digest (`sha256:…`): Kubernetes' imageID. */
  id: string;
  /** Manifest digest, when pulled from a registry. */
  digest?: string;
  size: number;
  /**
   * The image config's `User` ("1000", "nobody:staff", empty for root), as CRI's ImageStatus
   * carries it: the kubelet checks runAsNonRoot against it before creating the container.
   */
  user?: string;
}

export interface SandboxConfig {
  podUid: string;
  namespace: string;
  name: string;
  hostname: string;
  /** Written to the pod's /etc/resolv.conf. */
  dns: { nameservers: string[]; searches: string[]; options: string[] };
  /** Extra /etc/hosts lines besides the pod's own. */
  hostAliases: { ip: string; hostnames: string[] }[];
  hostPorts: { containerPort: number; hostPort: number; protocol: "TCP" | "UDP" | "SCTP"; hostIP?: string }[];
  /** Pod-level cgroup limits (sum of container limits), if any. */
  resources?: ContainerResources;
  /**
   * Namespaces the pod shares with the host (spec.hostNetwork/hostPID/hostIPC). The runtime joins
   * the host's and never creates, moves or tears down anything of it: no veth, no pod IP, no
   * hostPort rules (the pod listens on the host's ports itself); a host network also means the
   * host's UTS namespace (its hostname), as the CRI runtimes do.
   */
  hostNamespaces?: HostNamespaces;
}

export interface HostNamespaces {
  network?: boolean;
  pid?: boolean;
  ipc?: boolean;
}

export interface SandboxStatus {
  podUid: string;
  /** Pod IP; undefined until networking is set up (or when it has none). */
  ip?: string;
  ready: boolean;
  createdAt: string;
}

export interface ContainerResources {
  /** CPU limit in millicores → CFS quota/period. */
  cpuLimitMillis?: number;
  /** CPU request in millicores → shares/weight. */
  cpuRequestMillis?: number;
  memoryLimitBytes?: number;
  memoryRequestBytes?: number;
  pidsLimit?: number;
}

export type VolumeSource =
  | { type: "emptyDir"; medium?: "" | "Memory"; sizeLimitBytes?: number }
  /** readOnly: every mount of it read-only (a claim the pod mounts with `readOnly: true`). */
  | { type: "hostPath"; path: string; hostPathType?: string; readOnly?: boolean }
  /** configMap, secret, downwardAPI: files materialised by the runtime (path → content). */
  | { type: "files"; files: Record<string, Uint8Array | string>; mode?: number };

export interface Mount {
  /** Volume name, unique in the pod: the runtime keeps one directory per pod volume. */
  volume: string;
  source: VolumeSource;
  containerPath: string;
  subPath?: string;
  readOnly: boolean;
}

export interface SecurityOptions {
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  capabilitiesAdd?: string[];
  capabilitiesDrop?: string[];
  allowPrivilegeEscalation?: boolean;
}

export interface ContainerConfig {
  podUid: string;
  podNamespace: string;
  podName: string;
  /** Container name in the pod spec. */
  name: string;
  /** Restart attempt (0 first); part of the container identity so restarts never collide. */
  attempt: number;
  image: string;
  /** Pod `command` (replaces ENTRYPOINT) and `args` (replaces CMD); undefined = image default. */
  command?: string[];
  args?: string[];
  workingDir?: string;
  /** Fully resolved pod env (valueFrom already looked up); merged over the image Env by the runtime. */
  env: { name: string; value: string }[];
  resources: ContainerResources;
  mounts: Mount[];
  security: SecurityOptions;
  tty: boolean;
  stdin: boolean;
  /** The container's stdin is closed (EOF) once the first attached client closes its stdin. */
  stdinOnce?: boolean;
  /** Kept for `/dev/termination-log` style messages; optional. */
  terminationMessagePath?: string;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerStatus {
  id: string;
  podUid: string;
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  state: ContainerState;
  pid?: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** OOMKilled, Error, Completed, … */
  reason?: string;
  message?: string;
}

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
  limitBytes?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  tty: boolean;
  stdin: boolean;
  /** Initial terminal size for tty sessions. */
  size?: { cols: number; rows: number };
}

export interface ExecSession {
  /** Present when `stdin` was asked for. Closing it sends EOF. */
  stdin?: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  /** Absent for tty sessions (merged into stdout). */
  stderr?: ReadableStream<Uint8Array>;
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number>;
  kill(): void;
}

export interface ContainerStats {
  timestamp: string;
  /** Cumulative CPU time used, in nanoseconds. */
  cpuUsageNanoSeconds: number;
  memoryUsageBytes: number;
  memoryWorkingSetBytes: number;
  memoryLimitBytes?: number;
}

export type RuntimeEvent =
  | { type: "exited"; containerId: string; podUid: string }
  | { type: "oom"; containerId: string; podUid: string };

export interface ContainerRuntime {
  readonly name: string;
  /** Prepares the host (cgroups, mount namespace, exit watcher). Safe to call once per process. */
  start(): Promise<void>;
  /** Stops watching; containers keep running (like a kubelet restart). */
  close(): Promise<void>;

  pullImage(image: string, policy: PullPolicy, onProgress?: (p: PullProgress) => void): Promise<ImageRef>;

  runPodSandbox(config: SandboxConfig): Promise<SandboxStatus>;
  /** Stops every container of the pod and releases its network. */
  stopPodSandbox(podUid: string): Promise<void>;
  removePodSandbox(podUid: string): Promise<void>;
  listPodSandboxes(): Promise<SandboxStatus[]>;

  /** Creates and starts a container in its pod's sandbox. */
  startContainer(config: ContainerConfig): Promise<ContainerStatus>;
  /** SIGTERM, then SIGKILL after `gracePeriodSeconds`. */
  stopContainer(id: string, gracePeriodSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Every container the runtime knows, including ones started before this process (adoption). */
  listContainers(): Promise<ContainerStatus[]>;
  /** Prompt notification of exits and OOM kills. Returns an unsubscribe function. */
  onEvent(listener: (event: RuntimeEvent) => void): () => void;

  logs(id: string, options: LogOptions): ReadableStream<Uint8Array>;
  exec(id: string, command: string[], options: ExecOptions): Promise<ExecSession>;
  /**
   * A session on the container's main process (`kubectl attach`, `kubectl run -i`): output from
   * now on, stdin written to the container's own stdin (only for one started with `stdin`).
   * `exited` resolves with the container's exit code; `kill` ends the session, not the container.
   */
  attach(id: string, options: ExecOptions): Promise<ExecSession>;
  stats(id: string): Promise<ContainerStats | undefined>;
  /** Namespaces, cgroup limits and rootfs layers, read back from the host (`minik inspect`). */
  inspect(id: string): Promise<ContainerInspection>;
  /**
   * Replaces files of a pod's "files" volume in place, each atomically (a renewed projected
   * service-account token); nothing happens when the volume was not materialised yet.
   */
  updateVolumeFiles?(podUid: string, volume: string, files: Record<string, string>): Promise<void>;
}
