import {
  type ContainerConfig,
  type ContainerRuntime,
  type ContainerStats,
  type ContainerStatus,
  type ExecOptions,
  type ExecSession,
  type ImageRef,
  type LogOptions,
  type PullPolicy,
  RuntimeError,
  type RuntimeEvent,
  type SandboxConfig,
  type SandboxStatus,
} from "./container-runtime.ts";

/**
 * An in-memory ContainerRuntime for tests that need no root. Containers "run" until the test
 * calls `exit()` (or a `program` says when they end); image pulls fail where the test said so.
 * The state lives in a `FakeHost` (the "machine"), so a second FakeRuntime over the same host
 * behaves like a restarted runtime process that must adopt what is already running.
 * No Bun APIs: it runs wherever core/ runs.
 */

export interface FakeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a container does by itself once started (default: runs until exit() or stop). */
export interface FakeProgram {
  /** Output written to the log at start. */
  output?: string;
  /** Exit by itself after `afterMs` (clock time) with this code. */
  exitCode?: number;
  afterMs?: number;
  oom?: boolean;
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

interface FakeContainer {
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

const realClock: FakeClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The fake machine: images, sandboxes and containers that outlive any one FakeRuntime object. */
export class FakeHost {
  readonly clock: FakeClock;
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

  constructor(clock: FakeClock = realClock) {
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

  addImage(image: string): ImageRef {
    const name = normalizeImage(image);
    const ref = {
      name,
      id: `sha256:${fakeDigest(name)}`,
      digest: `sha256:${fakeDigest(`m:${name}`)}`,
      size: 1024,
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

  /** A host reboot: every sandbox and container is gone, images stay. */
  reboot(): void {
    for (const c of this.containers.values())
      if (c.exitTimer !== undefined) this.clock.clearTimeout(c.exitTimer);
    this.containers.clear();
    this.sandboxes.clear();
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

export interface FakeRuntimeOptions {
  host?: FakeHost;
  clock?: FakeClock;
  /** What a started container does by itself; see FakeProgram. */
  program?: (config: ContainerConfig) => FakeProgram | undefined;
}

export class FakeRuntime implements ContainerRuntime {
  readonly name = "fake";
  readonly host: FakeHost;
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly relay = (e: RuntimeEvent) => {
    for (const l of this.listeners) l(e);
  };

  constructor(options: FakeRuntimeOptions = {}) {
    this.host = options.host ?? new FakeHost(options.clock);
    if (options.program) this.host.program = options.program;
  }

  // Test controls, forwarded to the host.
  exit(id: string, code: number, opts: { oom?: boolean } = {}): void {
    this.host.exit(id, code, opts);
  }
  failPull(image: string, message?: string, reason?: string): void {
    this.host.failPull(image, message, reason);
  }
  clearPullFailure(image: string): void {
    this.host.clearPullFailure(image);
  }
  set execHandler(handler: FakeExecHandler) {
    this.host.execHandler = handler;
  }

  async start(): Promise<void> {
    this.host.listeners.add(this.relay);
  }

  async close(): Promise<void> {
    this.host.listeners.delete(this.relay);
  }

  async pullImage(image: string, policy: PullPolicy): Promise<ImageRef> {
    const name = normalizeImage(image);
    this.host.pulls.push({ image, policy });
    const present = this.host.images.get(name);
    if (policy === "Never") {
      if (present) return present;
      throw new RuntimeError(
        "ErrImageNeverPull",
        `Container image "${image}" is not present with pull policy of Never`,
      );
    }
    if (present && policy === "IfNotPresent") return present;
    await this.host.pullGates.get(name);
    const failure = this.host.pullFailures.get(name);
    if (failure) throw failure;
    return present ?? this.host.addImage(image);
  }

  async runPodSandbox(config: SandboxConfig): Promise<SandboxStatus> {
    const existing = this.host.sandboxes.get(config.podUid);
    if (existing?.status.ready) return { ...existing.status };
    const status: SandboxStatus = {
      podUid: config.podUid,
      ip: existing?.status.ip ?? this.host.allocateIp(),
      ready: true,
      createdAt: existing?.status.createdAt ?? this.host.now(),
    };
    this.host.sandboxes.set(config.podUid, { config, status });
    return { ...status };
  }

  async stopPodSandbox(podUid: string): Promise<void> {
    for (const c of this.host.containers.values()) {
      if (c.status.podUid === podUid) this.host.exit(c.status.id, 137);
    }
    const sb = this.host.sandboxes.get(podUid);
    if (sb) sb.status = { ...sb.status, ready: false, ip: undefined };
  }

  async removePodSandbox(podUid: string): Promise<void> {
    await this.stopPodSandbox(podUid);
    for (const c of [...this.host.containers.values()]) {
      if (c.status.podUid === podUid) this.host.containers.delete(c.status.id);
    }
    this.host.sandboxes.delete(podUid);
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    return [...this.host.sandboxes.values()].map((s) => ({ ...s.status }));
  }

  async startContainer(config: ContainerConfig): Promise<ContainerStatus> {
    const same = this.host.find(config.podUid, config.name, config.attempt);
    if (same) return { ...same };
    const sandbox = this.host.sandboxes.get(config.podUid);
    if (!sandbox?.status.ready) {
      throw new RuntimeError("CreateContainerError", `pod sandbox for pod ${config.podUid} is not running`);
    }
    const image = this.host.images.get(normalizeImage(config.image));
    if (!image) {
      throw new RuntimeError("CreateContainerError", `image "${config.image}" has not been pulled`);
    }
    const id = randomId();
    const now = this.host.now();
    const entry: FakeContainer = {
      status: {
        id,
        podUid: config.podUid,
        name: config.name,
        attempt: config.attempt,
        image: image.name,
        imageId: image.id,
        state: "running",
        pid: 1000 + this.host.containers.size,
        createdAt: now,
        startedAt: now,
      },
      config: structuredClone(config),
      log: [],
      logWaiters: new Set(),
      stopWaiters: new Set(),
      holdStop: false,
    };
    this.host.containers.set(id, entry);
    this.host.started.push(entry.config);
    const program = this.host.program?.(config);
    if (program?.output) this.host.writeLog(id, program.output);
    if (program?.exitCode !== undefined) {
      const code = program.exitCode;
      const exit = () => this.host.exit(id, code, { oom: program.oom });
      if (program.afterMs) entry.exitTimer = this.host.clock.setTimeout(exit, program.afterMs);
      else queueMicrotask(exit);
    }
    return { ...entry.status };
  }

  async stopContainer(id: string, gracePeriodSeconds: number): Promise<void> {
    const c = this.host.containers.get(id);
    if (c?.status.state !== "running") return;
    if (!c.holdStop) {
      this.host.exit(id, 143);
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = this.host.clock.setTimeout(() => {
        c.stopWaiters.delete(done);
        this.host.exit(id, 137);
        resolve();
      }, gracePeriodSeconds * 1000);
      const done = () => {
        this.host.clock.clearTimeout(timer);
        c.stopWaiters.delete(done);
        resolve();
      };
      c.stopWaiters.add(done);
    });
  }

  async removeContainer(id: string): Promise<void> {
    this.host.exit(id, 137);
    this.host.containers.delete(id);
  }

  async listContainers(): Promise<ContainerStatus[]> {
    return [...this.host.containers.values()].map((c) => ({ ...c.status }));
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  logs(id: string, options: LogOptions): ReadableStream<Uint8Array> {
    const c = this.host.containers.get(id);
    const enc = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      start: async (controller) => {
        if (!c) {
          controller.error(new RuntimeError("NotFound", `container ${id} not found`));
          return;
        }
        const format = (e: { at: number; text: string }) =>
          options.timestamps ? `${new Date(e.at).toISOString()} ${e.text}` : e.text;
        let lines = c.log;
        if (options.sinceSeconds !== undefined) {
          const since = this.host.clock.now() - options.sinceSeconds * 1000;
          lines = lines.filter((l) => l.at >= since);
        }
        if (options.tailLines !== undefined)
          lines = lines.slice(Math.max(0, lines.length - options.tailLines));
        let sent = c.log.length;
        for (const l of lines) controller.enqueue(enc.encode(format(l)));
        while (options.follow && c.status.state === "running" && !options.signal?.aborted) {
          await new Promise<void>((resolve) => {
            c.logWaiters.add(resolve);
            options.signal?.addEventListener("abort", () => resolve(), { once: true });
          });
          c.logWaiters.clear();
          for (const l of c.log.slice(sent)) controller.enqueue(enc.encode(format(l)));
          sent = c.log.length;
        }
        controller.close();
      },
    });
  }

  async exec(id: string, command: string[], options: ExecOptions): Promise<ExecSession> {
    const c = this.host.containers.get(id);
    if (c?.status.state !== "running") {
      throw new RuntimeError("RunContainerError", `container ${id} is not running`);
    }
    const result = await this.host.execHandler({ ...c.status }, command);
    const enc = new TextEncoder();
    const once = (text?: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          if (text) controller.enqueue(enc.encode(text));
          controller.close();
        },
      });
    return {
      stdin: options.stdin ? new WritableStream<Uint8Array>() : undefined,
      stdout: once(options.tty ? `${result.stdout ?? ""}${result.stderr ?? ""}` : result.stdout),
      stderr: options.tty ? undefined : once(result.stderr),
      resize() {},
      exited: Promise.resolve(result.exitCode),
      kill() {},
    };
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    const c = this.host.containers.get(id);
    if (c?.status.state !== "running") return undefined;
    const ranMs = this.host.clock.now() - Date.parse(c.status.startedAt ?? c.status.createdAt);
    return {
      timestamp: this.host.now(),
      cpuUsageNanoSeconds: Math.max(0, ranMs) * 1000,
      memoryUsageBytes: 8 << 20,
      memoryWorkingSetBytes: 6 << 20,
      memoryLimitBytes: c.config.resources.memoryLimitBytes,
      ...c.stats,
    };
  }
}

/** `nginx` → `docker.io/library/nginx:latest`, the way image references are normalised. */
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

function randomId(): string {
  return (crypto.randomUUID() + crypto.randomUUID()).replaceAll("-", "");
}
