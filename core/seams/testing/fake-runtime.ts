import type { Clock } from "../../loop/clock.ts";
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ExecOptions,
  ExecSession,
  ImageRef,
  LogOptions,
  PullPolicy,
  RuntimeEvent,
  SandboxConfig,
  SandboxStatus,
} from "../container-runtime.ts";
import { RuntimeError } from "../container-runtime.ts";
import type { ContainerInspection, NamespaceType } from "../inspection.ts";
import {
  type FakeContainer,
  type FakeExecHandler,
  FakeHost,
  type FakeProgram,
  normalizeImage,
} from "./fake-host.ts";

export type { FakeExecHandler, FakeExecResult, FakeProgram } from "./fake-host.ts";
export { FakeHost, normalizeImage } from "./fake-host.ts";

/**
 * An in-memory ContainerRuntime for tests that need no root. Containers "run" until the test
 * calls `exit()` (or a `program` says when they end); image pulls fail where the test said so.
 * The state lives in a `FakeHost` (the "machine"), so a second FakeRuntime over the same host
 * behaves like a restarted runtime process that must adopt what is already running.
 * No Bun APIs: it runs wherever core/ runs.
 */

export interface FakeRuntimeOptions {
  host?: FakeHost;
  clock?: Clock;
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
      // a pod on the host's network has no address of its own (the agent reports the node's)
      ...(config.hostNamespaces?.network ? {} : { ip: existing?.status.ip ?? this.host.allocateIp() }),
      ready: true,
      createdAt: this.host.now(),
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
    if (program?.startError !== undefined) {
      entry.status = {
        ...entry.status,
        state: "exited",
        pid: undefined,
        startedAt: undefined,
        finishedAt: now,
        exitCode: 128,
        reason: "StartError",
        message: program.startError,
      };
      this.host.emit({ type: "exited", containerId: id, podUid: config.podUid });
      return { ...entry.status };
    }
    if (program?.ignoresSigterm) entry.holdStop = true;
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

  /**
   * Like crun's: output from now on (merged on stdout), stdin only for a container started with
   * `stdin`. The fake main process echoes its stdin into its log (a `cat`); with `stdinOnce` the
   * first session's EOF ends it (exit 0), as EOF ends a real `cat`. kill ends the session only.
   */
  async attach(id: string, options: ExecOptions): Promise<ExecSession> {
    const c = this.host.containers.get(id);
    if (c?.status.state !== "running") {
      throw new RuntimeError("NotFound", `container ${id} is not running; attach needs a running container`);
    }
    const ended = new AbortController();
    const exited = new Promise<number>((resolve) => {
      const done = () => {
        c.stopWaiters.delete(done);
        resolve(c.status.exitCode ?? 0);
      };
      c.stopWaiters.add(done);
      ended.signal.addEventListener("abort", done, { once: true });
    });
    const dec = new TextDecoder();
    const eof = () => {
      if (c.config.stdinOnce) this.host.exit(id, 0);
    };
    return {
      stdin:
        options.stdin && c.config.stdin
          ? new WritableStream<Uint8Array>({
              write: (chunk) => {
                if (c.status.state === "running") this.host.writeLog(id, dec.decode(chunk));
              },
              close: eof,
              abort: eof,
            })
          : undefined,
      stdout: this.logs(id, { follow: true, tailLines: 0, signal: ended.signal }),
      resize() {},
      exited,
      kill: () => ended.abort(),
    };
  }

  /**
   * What the crun runtime would read back: per-pod net/ipc/uts, the limits as cgroup v2 figures,
   * the pod's init layer over one image layer, nothing changed.
   */
  async inspect(id: string): Promise<ContainerInspection> {
    const c = this.host.containers.get(id);
    if (!c) throw new RuntimeError("NotFound", `container ${id} not found`);
    const running = c.status.state === "running";
    const host = this.host.sandboxes.get(c.config.podUid)?.config.hostNamespaces ?? {};
    const onHost = (type: NamespaceType) =>
      type === "pid"
        ? host.pid
        : type === "ipc"
          ? host.ipc
          : host.network && (type === "net" || type === "uts");
    const podNs = (type: NamespaceType) =>
      !running
        ? []
        : onHost(type)
          ? [{ type, inode: fakeInode(`host/${type}`), sharedWith: "host" as const }]
          : [{ type, inode: fakeInode(`${c.config.podUid}/${type}`), sharedWith: "pod" as const }];
    const ownNs = (type: NamespaceType) =>
      running ? [{ type, inode: fakeInode(`${id}/${type}`), sharedWith: "container" as const }] : [];
    const r = c.config.resources;
    const quota = r.cpuLimitMillis ? r.cpuLimitMillis * 100 : undefined;
    return {
      id,
      name: c.config.name,
      state: c.status.state,
      image: c.config.image,
      ...(running ? { pid: { host: c.status.pid ?? 4242, inContainer: 1 } } : {}),
      namespaces: [
        ...(host.pid ? podNs("pid") : ownNs("pid")),
        ...ownNs("mnt"),
        ...podNs("net"),
        ...podNs("uts"),
        ...podNs("ipc"),
      ],
      ...(running
        ? {
            cgroup: {
              mode: "v2",
              path: `/minik/${c.config.podUid}/${id}`,
              cpu: quota
                ? { quotaMicros: quota, periodMicros: 100000, percentOfOneCpu: quota / 1000 }
                : { periodMicros: 100000 },
              ...(r.memoryLimitBytes ? { memoryMaxBytes: r.memoryLimitBytes } : {}),
              files: {},
            },
          }
        : {}),
      rootfs: {
        layers: [
          { role: "container", dir: `/fake/containers/${id}/upper` },
          {
            role: "init",
            dir: `/fake/pods/${c.config.podUid}/init`,
            files: ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"],
          },
          { role: "image", dir: "/fake/images/l/0", digest: "sha256:0", sizeBytes: 1 },
        ],
        changes: { added: [], modified: [], deleted: [] },
      },
      notes: running ? [] : [`container ${c.config.name} is ${c.status.state}`],
    };
  }

  /** What updateVolumeFiles wrote, by `podUid/volume` (tests read it). */
  readonly volumeFiles = new Map<string, Record<string, string>>();

  async updateVolumeFiles(podUid: string, volume: string, files: Record<string, string>): Promise<void> {
    const key = `${podUid}/${volume}`;
    this.volumeFiles.set(key, { ...this.volumeFiles.get(key), ...files });
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
function randomId(): string {
  return (crypto.randomUUID() + crypto.randomUUID()).replaceAll("-", "");
}

/** A stable fake namespace inode per key, in the kernel's range. */
function fakeInode(key: string): number {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 4026531840 + (h % 100000);
}
