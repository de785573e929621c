import { type Clock, systemClock } from "../../loop/clock.ts";
import {
  type ContainerConfig,
  type ContainerStats,
  type ContainerStatus,
  type ImageRef,
  type PullPolicy,
  RuntimeError,
  type RuntimeEvent,
  type SandboxConfig,
  type SandboxStatus,
} from "../container-runtime.ts";

/** What a container does by itself once started (default: runs until exit() or stop). */
export interface FakeProgram {
  /** Output written to the log at start. */
  output?: string;
  /** Exit by itself after `afterMs` (clock time) with this code. */
  exitCode?: number;
  afterMs?: number;
  oom?: boolean;
  /**
   * The process cannot be started (a missing binary): the container is recorded exited with
   * crun's message, exit code 128 and reason StartError, as CrunRuntime does.
   */
  startError?: string;
  /** PID 1 ignores SIGTERM: a stop takes the whole grace period, then SIGKILL (137). */
  ignoresSigterm?: boolean;
}

export interface FakeExecResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export type FakeExecHandler = (
  container: ContainerStatus,
  command: string[],
) => FakeExecResult | Promise<FakeExecResult>;

export interface FakeContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  log: { at: number; text: string }[];
  logWaiters: Set<() => void>;
  /** When set, stopContainer waits for exit() or the grace period instead of exiting at once. */
  holdStop: boolean;
  stopWaiters: Set<() => void>;
  exitTimer?: unknown;
  stats?: Partial<ContainerStats>;
}

/**
 * The fake machine under FakeRuntime: images, sandboxes and containers that outlive any one
 * FakeRuntime object (so a second one models a restarted runtime), plus the controls a test
 * uses to play the kernel: exit(), failPull(), holdPull(), holdStop(), writeLog(), reboot().
 */
export class FakeHost {
  readonly clock: Clock;
  readonly images = new Map<string, ImageRef>();
  readonly sandboxes = new Map<string, { config: SandboxConfig; status: SandboxStatus }>();
  readonly containers = new Map<string, FakeContainer>();
  readonly pullFailures = new Map<string, RuntimeError>();
  /** Pulls of these images wait until the gate opens (a slow registry). */
  readonly pullGates = new Map<string, Promise<void>>();
  /** Every pull asked for, in order (image, policy). */
  readonly pulls: { image: string; policy: PullPolicy }[] = [];
  /** Every ContainerConfig started, in order. */
  readonly started: ContainerConfig[] = [];
  program?: (config: ContainerConfig) => FakeProgram | undefined;
  execHandler: FakeExecHandler = defaultExec;
  private nextIp = 2;
  readonly listeners = new Set<(e: RuntimeEvent) => void>();

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  allocateIp(): string {
    const n = this.nextIp++;
    return `10.88.${Math.floor(n / 254)}.${(n % 254) + 1}`;
  }

  emit(event: RuntimeEvent): void {
    // Promptly but not re-entrantly: like a real exit watcher, the event arrives on a later tick.
    queueMicrotask(() => {
      for (const l of this.listeners) l(event);
    });
  }

  /** Ends a running container with `code`, as if its process exited (or was OOM-killed). */
  exit(id: string, code: number, opts: { oom?: boolean } = {}): void {
    const c = this.containers.get(id);
    if (c?.status.state !== "running") return;
    if (c.exitTimer !== undefined) this.clock.clearTimeout(c.exitTimer);
    c.status = {
      ...c.status,
      state: "exited",
      pid: undefined,
      exitCode: code,
      finishedAt: this.iso(),
      reason: opts.oom ? "OOMKilled" : code === 0 ? "Completed" : "Error",
    };
    for (const w of c.logWaiters) w();
    for (const w of c.stopWaiters) w();
    if (opts.oom) this.emit({ type: "oom", containerId: id, podUid: c.status.podUid });
    this.emit({ type: "exited", containerId: id, podUid: c.status.podUid });
  }

  /** Appends to a container's log (what its process would print). */
  writeLog(id: string, text: string): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`fake: no container ${id}`);
    c.log.push({ at: this.clock.now(), text });
    for (const w of c.logWaiters) w();
  }

  /** Makes pulls of `image` fail until cleared. */
  failPull(
    image: string,
    message = `failed to pull image "${image}": not found`,
    reason = "ErrImagePull",
  ): void {
    this.pullFailures.set(normalizeImage(image), new RuntimeError(reason, message));
  }

  clearPullFailure(image: string): void {
    this.pullFailures.delete(normalizeImage(image));
  }

  /** Makes pulls of `image` hang until the returned function is called. */
  holdPull(image: string): () => void {
    let open!: () => void;
    const name = normalizeImage(image);
    this.pullGates.set(name, new Promise<void>((resolve) => (open = resolve)));
    return () => {
      this.pullGates.delete(name);
      open();
    };
  }

  /** `user` is the image config's User (empty: root), as a real image declares it. */
  addImage(image: string, user?: string): ImageRef {
    const name = normalizeImage(image);
    const ref = {
      name,
      id: `sha256:${fakeDigest(name)}`,
      digest: `sha256:${fakeDigest(`m:${name}`)}`,
      size: 1024,
      ...(user ? { user } : {}),
    };
    this.images.set(name, ref);
    return ref;
  }

  /** The container found by pod uid, container name and (default: newest) attempt. */
  find(podUid: string, name: string, attempt?: number): ContainerStatus | undefined {
    let best: ContainerStatus | undefined;
    for (const c of this.containers.values()) {
      const s = c.status;
      if (s.podUid !== podUid || s.name !== name) continue;
      if (attempt !== undefined ? s.attempt === attempt : !best || s.attempt > best.attempt) best = s;
    }
    return best;
  }

  /** Makes the next stopContainer of `id` wait for exit() or its grace period (a process ignoring SIGTERM). */
  holdStop(id: string): void {
    const c = this.containers.get(id);
    if (c) c.holdStop = true;
  }

  setStats(id: string, stats: Partial<ContainerStats>): void {
    const c = this.containers.get(id);
    if (c) c.stats = stats;
  }

  /**
   * A host reboot as CrunRuntime records it: every process and network is gone, the records stay
   * — containers exited with their exit code lost (ContainerStatusUnknown), sandboxes not ready
   * and without an IP. Images stay.
   */
  reboot(): void {
    for (const c of this.containers.values()) {
      if (c.exitTimer !== undefined) this.clock.clearTimeout(c.exitTimer);
      if (c.status.state !== "running") continue;
      const { exitCode: _lost, pid: _gone, ...rest } = c.status;
      c.status = {
        ...rest,
        state: "exited",
        finishedAt: this.iso(),
        reason: "ContainerStatusUnknown",
        message: "the container exited while minik was not running; its exit code is lost",
      };
    }
    for (const sb of this.sandboxes.values()) sb.status = { ...sb.status, ready: false, ip: undefined };
  }

  config(id: string): ContainerConfig | undefined {
    return this.containers.get(id)?.config;
  }

  entry(id: string): FakeContainer | undefined {
    return this.containers.get(id);
  }

  now(): string {
    return this.iso();
  }
}

function defaultExec(_c: ContainerStatus, command: string[]): FakeExecResult {
  if (command[0] === "echo") return { exitCode: 0, stdout: `${command.slice(1).join(" ")}\n` };
  if (command[0] === "true") return { exitCode: 0 };
  if (command[0] === "false") return { exitCode: 1 };
  return { exitCode: 127, stderr: `${command[0]}: not found\n` };
}

export function normalizeImage(image: string): string {
  let name = image;
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes(".") && !first.includes(":") && first !== "localhost") name = `docker.io/${name}`;
  const lastPart = name.slice(name.lastIndexOf("/") + 1);
  if (!lastPart.includes(":") && !lastPart.includes("@")) name += ":latest";
  return name;
}

function fakeDigest(text: string): string {
  let out = "";
  let h = 0x811c9dc5;
  for (let round = 0; out.length < 64; round++) {
    for (const ch of `${round}:${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}
