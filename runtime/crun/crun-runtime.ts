import { createHash } from "node:crypto";
import { closeSync, existsSync } from "node:fs";
import type { ContainerConfig, ContainerRuntime, RuntimeEvent } from "../../core/seams/container-runtime.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import { prepareCgroupHost } from "../cgroups/cgroup-delegation.ts";
import type { CgroupHost } from "../cgroups/cgroup-host.ts";
import { openOomEventfd, readCgroupUsage, readOomKills } from "../cgroups/cgroup-stats.ts";
import { containerCgroupPath, hasSwapAccounting, removeCgroup } from "../cgroups/cgroup-tree.ts";
import { migrationWarmup } from "../cgroups/migration-warmup.ts";
import type { ImageStore, ResolvedImage } from "../image/image-store.ts";
import type { PodNetwork } from "../net/pod-network.ts";
import {
  createExitWatcher,
  type ExitInfo,
  type ExitWatcher,
  processStartTime,
} from "../supervise/exit-watcher.ts";
import { nofileHardLimit } from "../supervise/libc.ts";
import { attachSession } from "./container-attach.ts";
import { prepareBundle, readTerminationMessage } from "./container-bundle.ts";
import { deleteContainerState } from "./container-delete.ts";
import { inspectContainer } from "./container-inspect.ts";
import { createContainerLogWriters, DEFAULT_LOG_LIMITS } from "./container-log-writer.ts";
import { logStream } from "./container-logs.ts";
import { createContainerStdins } from "./container-stdin.ts";
import { type CrunCli, CrunError, createCrunCli, createCrunProbe, crunVersion } from "./crun-cli.ts";
import { startExec } from "./crun-exec.ts";
import { prepareCrunNamespace } from "./crun-namespace.ts";
import { clearRunDirAfterReboot, dataLayout } from "./data-layout.ts";
import { createKeyedLock } from "./keyed-lock.ts";
import { createKillSchedule } from "./kills-first.ts";
import { forgetLog, observeLog } from "./log-index.ts";
import { createPodSandboxes, type PodSandboxes } from "./pod-sandboxes.ts";
import { updateVolumeFiles } from "./pod-volumes.ts";
import { unmountRootfs } from "./rootfs.ts";
import {
  bootId,
  type ContainerRecord,
  ensureDir,
  readRecords,
  recordExit,
  removeDir,
  type SandboxRecord,
  toContainerStatus,
  toSandboxStatus,
  writeRecord,
} from "./runtime-records.ts";

/**
 * ContainerRuntime on crun, without a monitor process per container: `crun run -d` with stdio on
 * a log file, exits learned through pidfds (we are the child subreaper), OOM kills through the v1
 * eventfd or the cgroup's oom_kill counter, state in one JSON per pod and container so a new
 * process adopts what runs. Where things live: see data-layout.ts.
 */

/** What CrunRuntime needs of the image store (runtime/image/image-store.ts). */
export type ImageSource = Pick<ImageStore, "pull" | "resolve">;

export interface CrunRuntimeOptions {
  dataDir: string;
  images: ImageSource;
  network?: PodNetwork;
  crunPath?: string;
  log?: (message: string) => void;
  /** A log file reaching this size is rotated (the kubelet's containerLogMaxSize). Default 10 MiB. */
  maxLogBytes?: number;
  /** Log files kept per container, the live one included (containerLogMaxFiles, at least 2). Default 5. */
  maxLogFiles?: number;
}

const LOG_INDEX_MS = 1000;

export interface CrunRuntime extends ContainerRuntime {
  /** `crun://1.8.1`: the crun in use, as the Node's containerRuntimeVersion; read by start(). */
  version(): string;
  /** The node health check of the runtime: crun still runs and its state directory is there. */
  health(): Promise<void>;
}

export function createCrunRuntime(options: CrunRuntimeOptions): CrunRuntime {
  const dataDir = options.dataDir;
  const log = options.log ?? (() => {});
  const listeners = new Set<(e: RuntimeEvent) => void>();
  const containers = new Map<string, ContainerRecord>();
  const exitWaiters = new Map<string, (() => void)[]>();
  const oomFds = new Map<string, number>();
  const stdins = createContainerStdins();
  const logWriters = createContainerLogWriters({
    maxBytes: options.maxLogBytes ?? DEFAULT_LOG_LIMITS.maxBytes,
    maxFiles: Math.max(2, options.maxLogFiles ?? DEFAULT_LOG_LIMITS.maxFiles),
  });
  let cg!: CgroupHost;
  let warmMigration = () => {};
  let pods!: PodSandboxes;
  let crun!: CrunCli;
  let version: string | undefined;
  let watcher: ExitWatcher | undefined;
  let indexTimer: ReturnType<typeof setInterval> | undefined;
  let swap = true;
  let nofile = 1024;
  const boot = bootId();

  const layout = dataLayout(dataDir);
  const saveContainer = (r: ContainerRecord) =>
    writeRecord(`${ensureDir(layout.container(r.id))}/container.json`, r);

  const serialized = createKeyedLock();

  function emit(e: RuntimeEvent): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        log(`runtime event listener failed: ${err}`);
      }
    }
  }

  /** Records an exit (once): OOM is told by the event or the cgroup counter, read before delete. */
  function markExited(r: ContainerRecord, info: ExitInfo): void {
    if (r.state === "exited") return;
    const oom = r.oomKilled || readOomKills(cg, r.cgroupPath) > 0;
    observeLog(layout.log(r.id)); // the last lines' time
    recordExit(r, info.exitCode, oom);
    const message = readTerminationMessage(layout, r.id);
    if (message) r.message = message;
    saveContainer(r);
    const efd = oomFds.get(r.id);
    if (efd !== undefined) {
      watcher?.unwatchEventfd(efd);
      oomFds.delete(r.id);
    }
    for (const w of exitWaiters.get(r.id) ?? []) w();
    exitWaiters.delete(r.id);
    emit({ type: "exited", containerId: r.id, podUid: r.podUid });
  }

  function watchContainer(r: ContainerRecord): boolean {
    if (!r.pid || !watcher) return false;
    // The exit is told once the last output is in the log file (`logs` right after it sees it all).
    const ok = watcher.watchPid(r.pid, (info) => {
      logWriters.flush(r.id);
      markExited(r, info);
    });
    if (!ok) return false;
    const efd = openOomEventfd(cg, r.cgroupPath);
    if (efd !== undefined) {
      oomFds.set(r.id, efd);
      watcher.watchEventfd(efd, () => {
        r.oomKilled = true;
        saveContainer(r);
        emit({ type: "oom", containerId: r.id, podUid: r.podUid });
      });
    }
    return true;
  }

  function waitExit(id: string, timeoutMs: number): Promise<boolean> {
    const r = containers.get(id);
    if (r?.state !== "running") return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const list = exitWaiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      exitWaiters.set(id, list);
    });
  }

  /** Adopts records left by an earlier process: running ones are watched, the rest marked exited. */
  async function adopt(r: ContainerRecord): Promise<void> {
    containers.set(r.id, r);
    if (r.state === "exited") return;
    if (r.bootId !== boot) return markExited(r, {});
    if (r.state === "created") {
      // The last process died between `crun run` and recording the start: ask crun.
      const st = await crun.state(r.id).catch(() => undefined);
      if (st?.status !== "running" || !st.pid) return markExited(r, {});
      r.pid = st.pid;
      r.pidStart = processStartTime(st.pid);
      r.state = "running";
      r.startedAt = st.created;
      saveContainer(r);
    }
    // The init may be running or a zombie (its status still readable): the watcher decides.
    if (r.pid && r.pidStart && processStartTime(r.pid) === r.pidStart && watchContainer(r)) {
      logWriters.resume(r.id, layout.logPipe(r.id), layout.log(r.id)); // drain what it wrote meanwhile
      return;
    }
    markExited(r, {});
  }

  function containerId(c: ContainerConfig): string {
    const h = createHash("sha256").update(`${c.podUid}/${c.name}/${c.attempt}`).digest("hex").slice(0, 16);
    return `${c.name.slice(0, 40)}-${c.attempt}-${h}`;
  }

  async function createContainer(
    c: ContainerConfig,
    sb: SandboxRecord,
    id: string,
  ): Promise<ContainerRecord> {
    const image: ResolvedImage | undefined = options.images.resolve(c.image);
    if (!image) {
      throw new RuntimeError(
        "CreateContainerError",
        `container ${c.name}: image ${c.image} is not present; pull it first`,
      );
    }
    const r: ContainerRecord = {
      id,
      podUid: c.podUid,
      name: c.name,
      attempt: c.attempt,
      image: c.image,
      imageId: image.ref.id,
      state: "created",
      cgroupPath: containerCgroupPath(cg, c.podUid, id),
      createdAt: new Date().toISOString(),
      bootId: boot,
      ...(c.stdin ? { stdin: true } : {}),
    };
    const dir = ensureDir(layout.container(id));
    saveContainer(r);
    const target = layout.rootfs(id);
    try {
      prepareBundle({
        layout,
        id,
        config: c,
        image,
        hostname: sb.hostname,
        ...(sb.hostNamespaces ? { host: sb.hostNamespaces } : {}),
        cgroupsPath: r.cgroupPath,
        nofileHardLimit: nofile,
        swapAccounting: swap,
      });
      const fd = logWriters.create(id, layout.logPipe(id), layout.log(id));
      const stdinFd = c.stdin ? stdins.create(id, layout.stdin(id), Boolean(c.stdinOnce)) : undefined;
      try {
        r.pid = await crun.run(id, dir, fd, stdinFd);
        r.pidStart = processStartTime(r.pid);
      } catch (e) {
        if (!(e instanceof CrunError)) throw e;
        await recordStartError(r, e);
        return r;
      } finally {
        closeSync(fd);
        if (stdinFd !== undefined) closeSync(stdinFd);
      }
      watcher?.sweepZombies();
      r.state = "running";
      r.startedAt = new Date().toISOString();
      saveContainer(r);
      if (!watchContainer(r)) markExited(r, {});
      return r;
    } catch (e) {
      stdins.forget(id);
      await crun.delete(id).catch(() => {});
      unmountRootfs(target);
      removeDir(target);
      removeDir(dir);
      await removeCgroup(cg, r.cgroupPath).catch(() => {});
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError("RunContainerError", `container ${c.name}: ${(e as Error).message}`);
    }
  }

  /**
   * crun could not start the process (a missing binary, a bad working directory): as containerd
   * records it, the container exists and exited with code 128, reason StartError and crun's
   * message, so the agent restarts it with back-off (CrashLoopBackOff) and counts restarts.
   */
  async function recordStartError(r: ContainerRecord, e: CrunError): Promise<void> {
    stdins.forget(r.id);
    await crun.delete(r.id).catch(() => {});
    unmountRootfs(layout.rootfs(r.id));
    removeDir(layout.rootfs(r.id));
    r.state = "exited";
    r.exitCode = 128;
    r.reason = "StartError";
    r.message = startErrorMessage(e.stderr);
    r.finishedAt = new Date().toISOString();
    saveContainer(r);
  }

  /** Clean-ups (crun delete, network, unmounts) wait until the pending SIGKILLs are out. */
  const kills = createKillSchedule();
  /** Stops waiting out a grace period: shorten it to `ms` from now. */
  const graceCuts = new Map<string, (ms: number) => void>();

  /**
   * Signals a container's init as `crun kill` does, through the exit watcher's pidfd when it
   * watches the init (a syscall instead of a crun process per signal: 50 pods stop at once);
   * `crun kill` otherwise (an adopted init the watcher could not open).
   */
  async function signalInit(r: ContainerRecord, signal: "TERM" | "KILL"): Promise<void> {
    const sent = r.pid ? watcher?.signal(r.pid, signal === "TERM" ? 15 : 9) : undefined;
    if (sent === undefined) await crun.kill(r.id, signal);
  }

  async function stopOne(id: string, graceSeconds: number): Promise<void> {
    const r = containers.get(id);
    if (r?.state !== "running") return;
    try {
      if (graceSeconds > 0) {
        kills.due(id, graceSeconds * 1000);
        await signalInit(r, "TERM");
        // A later stopContainer with a shorter grace (a force delete) cuts this wait short; the
        // same or a longer one (the agent's sync after the watch's) changes nothing.
        let cut: (() => void) | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let killAt = performance.now() + graceSeconds * 1000;
        const cutShort = new Promise<false>((resolve) => (cut = () => resolve(false)));
        graceCuts.set(id, (ms) => {
          if (performance.now() + ms >= killAt) return;
          killAt = performance.now() + ms;
          kills.due(id, ms);
          clearTimeout(timer);
          timer = setTimeout(cut!, ms);
        });
        try {
          if (await Promise.race([waitExit(id, graceSeconds * 1000), cutShort])) return;
        } finally {
          graceCuts.delete(id);
          clearTimeout(timer);
        }
      }
      kills.due(id, 0);
      await signalInit(r, "KILL");
      if (!(await waitExit(id, 10_000)))
        throw new Error(`container ${r.name} (${id}) did not exit after SIGKILL`);
    } finally {
      kills.done(id);
    }
  }

  async function removeOne(id: string): Promise<void> {
    const r = containers.get(id);
    await stopOne(id, 0);
    await kills.quiet();
    if (r) await deleteContainerState(crun, cg, r);
    else await crun.delete(id);
    if (r?.pid) watcher?.unwatchPid(r.pid);
    unmountRootfs(layout.rootfs(id));
    removeDir(layout.rootfs(id));
    if (r) await removeCgroup(cg, r.cgroupPath);
    removeDir(layout.container(id));
    forgetLog(layout.log(id));
    logWriters.forget(id);
    stdins.forget(id);
    containers.delete(id);
  }

  function podContainers(uid: string): ContainerRecord[] {
    return [...containers.values()].filter((c) => c.podUid === uid);
  }

  const probeCrun = createCrunProbe(options.crunPath ?? "crun");

  const runtime: CrunRuntime = {
    name: "crun",

    version() {
      if (!version) throw new Error("crun runtime: version() before start()");
      return `crun://${version}`;
    },

    async health() {
      if (!crun) throw new Error("crun runtime not started");
      await probeCrun();
      if (!existsSync(layout.crunRoot)) throw new Error(`crun state directory ${layout.crunRoot} is missing`);
    },

    async start() {
      cg = await prepareCgroupHost(dataDir, log);
      swap = hasSwapAccounting(cg);
      nofile = nofileHardLimit();
      if (clearRunDirAfterReboot(layout, boot)) log("crun runtime: host rebooted; cleared stale crun state");
      const ns = await prepareCrunNamespace(cg, layout.runDir);
      // crun makes its --root only with the first container; the health check must not wait for one
      ensureDir(layout.crunRoot);
      version = await crunVersion(options.crunPath ?? "crun");
      crun = createCrunCli({
        crunPath: options.crunPath ?? "crun",
        root: layout.crunRoot,
        prefix: ns.prefix,
      });
      watcher = createExitWatcher();
      pods = createPodSandboxes({ layout, cgroups: cg, network: options.network, bootId: boot });
      warmMigration = migrationWarmup(cg);
      for (const r of readRecords<ContainerRecord>(layout.containersDir, "container.json")) await adopt(r);
      indexTimer = setInterval(() => {
        for (const r of containers.values()) if (r.state === "running") observeLog(layout.log(r.id));
      }, LOG_INDEX_MS);
      indexTimer.unref();
      log(
        `crun runtime: cgroups ${cg.mode} under ${cg.base}${ns.holderPid ? `, mount namespace of pid ${ns.holderPid}` : ""}`,
      );
    },

    async close() {
      if (indexTimer) clearInterval(indexTimer);
      logWriters.close();
      watcher?.close();
      watcher = undefined;
      oomFds.clear();
    },

    async pullImage(image, policy, onProgress) {
      const ref = await options.images.pull(image, { policy, onProgress });
      const user = options.images.resolve(ref.id)?.config.User;
      return user ? { ...ref, user } : ref;
    },

    runPodSandbox(config) {
      warmMigration(); // crun's cgroup write waits out the grace period begun here
      return serialized(`pod/${config.podUid}`, async () => toSandboxStatus(await pods.run(config)));
    },

    stopPodSandbox(podUid) {
      return serialized(`pod/${podUid}`, async () => {
        await Promise.all(
          podContainers(podUid).map((c) => serialized(`ctr/${c.id}`, () => stopOne(c.id, 0))),
        );
        await kills.quiet();
        await pods.stop(podUid);
      });
    },

    removePodSandbox(podUid) {
      return serialized(`pod/${podUid}`, async () => {
        await Promise.all(podContainers(podUid).map((c) => serialized(`ctr/${c.id}`, () => removeOne(c.id))));
        await pods.remove(podUid);
      });
    },

    async listPodSandboxes() {
      return pods.list().map(toSandboxStatus);
    },

    async startContainer(config) {
      const id = containerId(config);
      return serialized(`ctr/${id}`, async () => {
        const existing = containers.get(id);
        if (existing) return toContainerStatus(existing);
        const sb = pods.get(config.podUid);
        if (!sb?.ready) {
          throw new RuntimeError(
            "CreateContainerError",
            `pod ${config.podNamespace}/${config.podName} has no running sandbox; run it first`,
          );
        }
        const r = await createContainer(config, sb, id);
        containers.set(id, r);
        if (r.state === "exited")
          queueMicrotask(() => emit({ type: "exited", containerId: id, podUid: r.podUid }));
        return toContainerStatus(r);
      });
    },

    stopContainer(id, gracePeriodSeconds) {
      graceCuts.get(id)?.(gracePeriodSeconds * 1000);
      return serialized(`ctr/${id}`, () => stopOne(id, gracePeriodSeconds));
    },

    removeContainer(id) {
      return serialized(`ctr/${id}`, async () => {
        if (containers.has(id) || existsSync(layout.container(id))) await removeOne(id);
      });
    },

    async listContainers() {
      return [...containers.values()].map(toContainerStatus);
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    logs(id, opts) {
      const r = containers.get(id);
      if (!r) {
        return new ReadableStream({
          start: (c) => c.error(new RuntimeError("NotFound", `container ${id} not found`)),
        });
      }
      return logStream(layout.log(id), { ...opts, isRunning: () => r.state === "running" });
    },

    async exec(id, command, opts) {
      const r = containers.get(id);
      if (r?.state !== "running") {
        throw new RuntimeError(
          "NotFound",
          `container ${r?.name ?? id} is not running; exec needs a running container`,
        );
      }
      return startExec(await crun.execArgv(id, command, opts.tty), opts);
    },

    async attach(id, opts) {
      const r = containers.get(id);
      if (r?.state !== "running") {
        throw new RuntimeError(
          "NotFound",
          `container ${r?.name ?? id} is not running; attach needs a running container`,
        );
      }
      const isRunning = () => r.state === "running";
      let done = () => {};
      const exited = new Promise<number>((resolve) => {
        done = () => resolve(r.exitCode ?? 0);
        exitWaiters.set(id, [...(exitWaiters.get(id) ?? []), done]);
      });
      return attachSession({
        output: (signal) => logStream(layout.log(id), { follow: true, tailLines: 0, signal, isRunning }),
        stdin: opts.stdin && r.stdin ? stdins.writer(id, layout.stdin(id), isRunning) : undefined,
        exited,
        // a client that leaves stops waiting for the container's exit
        detached: () =>
          exitWaiters.set(
            id,
            (exitWaiters.get(id) ?? []).filter((w) => w !== done),
          ),
      });
    },

    async stats(id) {
      const r = containers.get(id);
      if (r?.state !== "running") return undefined;
      const u = readCgroupUsage(cg, r.cgroupPath);
      return u ? { timestamp: new Date().toISOString(), ...u } : undefined;
    },

    async inspect(id) {
      const record = containers.get(id);
      if (!record) throw new RuntimeError("NotFound", `container ${id} not found`);
      const image = options.images.resolve(record.imageId) ?? options.images.resolve(record.image);
      return inspectContainer({ record, layout, cgroups: cg, image });
    },

    async updateVolumeFiles(podUid, volume, files) {
      updateVolumeFiles(layout.volumes(podUid), volume, files);
    },
  };
  return runtime;
}

/**
 * crun's log for a failed start, as one line for the container's status: the last error it
 * wrote, without its timestamp or JSON wrapping.
 */
export function startErrorMessage(crunLog: string): string {
  const lines = crunLog
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1) ?? "";
  let msg = last;
  try {
    msg = (JSON.parse(last) as { msg?: string }).msg ?? last;
  } catch {
    msg = last.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z?:?\s*/, "");
  }
  return msg ? `failed to start container process: ${msg}` : "failed to start container process";
}

/** Mount points of namespace files (fstype nsfs) in this mount namespace. */
