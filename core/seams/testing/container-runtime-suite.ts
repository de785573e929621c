import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type {
  ContainerConfig,
  ContainerRuntime,
  ContainerStatus,
  RuntimeEvent,
  SandboxConfig,
} from "../container-runtime.ts";
import { RuntimeError } from "../container-runtime.ts";

/**
 * The contract every ContainerRuntime keeps, as one bun:test suite: FakeRuntime runs it in
 * runtime/fake-runtime.test.ts, CrunRuntime runs it against real containers. The node agent relies
 * on exactly these behaviours (idempotent stop/remove, adoption after a runtime restart, prompt
 * exit events with the right exit code), so a runtime passing it can be driven by the agent.
 */
export interface RuntimeSuiteOptions {
  /** An image the runtime can pull with IfNotPresent. */
  image: string;
  /** An image reference whose pull fails (skips the pull-failure test when absent). */
  missingImage?: string;
  /** Commands, run as ContainerConfig.command in `image`. */
  commands: {
    /** Runs until stopped. */
    sleep: string[];
    /** Exits by itself with `code` after roughly `afterMs`. */
    exit(code: number, afterMs: number): string[];
    /** Prints `text` and a newline, then exits 0. */
    echo(text: string): string[];
    /** Copies stdin to stdout until EOF, then exits 0. */
    cat: string[];
    /** A command whose process cannot be started (its binary does not exist). */
    missingBinary: string[];
  };
  /** How long an exit may take to be reported through onEvent (default 3000 ms). */
  eventTimeoutMs?: number;
}

export function runContainerRuntimeSuite(
  name: string,
  /** A new runtime object over the same host each call (a second call models a runtime restart). */
  factory: () => Promise<ContainerRuntime>,
  options: RuntimeSuiteOptions,
): void {
  const eventTimeoutMs = options.eventTimeoutMs ?? 3000;

  describe(`ContainerRuntime conformance: ${name}`, () => {
    let rt: ContainerRuntime;
    const pods: string[] = [];
    let seq = 0;

    beforeAll(async () => {
      rt = await factory();
      await rt.start();
      await rt.pullImage(options.image, "IfNotPresent");
    });

    afterAll(async () => {
      for (const uid of pods) await rt.removePodSandbox(uid).catch(() => {});
      await rt.close();
    });

    function sandbox(): SandboxConfig {
      const uid = `suite-${Date.now().toString(36)}-${++seq}-${crypto.randomUUID().slice(0, 8)}`;
      pods.push(uid);
      return {
        podUid: uid,
        namespace: "default",
        name: `suite-${seq}`,
        hostname: `suite-${seq}`,
        dns: { nameservers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] },
        hostAliases: [],
        hostPorts: [],
      };
    }

    function container(sb: SandboxConfig, cname: string, command: string[], attempt = 0): ContainerConfig {
      return {
        podUid: sb.podUid,
        podNamespace: sb.namespace,
        podName: sb.name,
        name: cname,
        attempt,
        image: options.image,
        command,
        env: [{ name: "SUITE", value: "1" }],
        resources: {},
        mounts: [],
        security: {},
        tty: false,
        stdin: false,
      };
    }

    async function byId(r: ContainerRuntime, id: string): Promise<ContainerStatus | undefined> {
      return (await r.listContainers()).find((c) => c.id === id);
    }

    function nextExit(r: ContainerRuntime, id: string): Promise<RuntimeEvent> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`no exit event for ${id} within ${eventTimeoutMs} ms`));
        }, eventTimeoutMs);
        const off = r.onEvent((e) => {
          if (e.type === "exited" && e.containerId === id) {
            clearTimeout(timer);
            off();
            resolve(e);
          }
        });
      });
    }

    async function until<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
      const deadline = Date.now() + eventTimeoutMs;
      for (;;) {
        const v = await check();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    test("inspect reads back the container: limits as a CFS quota, pod-shared namespaces, its layers", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const limited = {
        ...container(sb, "limited", options.commands.sleep),
        resources: { cpuLimitMillis: 300 },
      };
      const a = await rt.startContainer(limited);
      const b = await rt.startContainer(container(sb, "other", options.commands.sleep));
      const seen = await rt.inspect(a.id);
      expect(seen.state).toBe("running");
      expect(seen.cgroup?.cpu).toMatchObject({
        quotaMicros: 30000,
        periodMicros: 100000,
        percentOfOneCpu: 30,
      });
      const net = (i: typeof seen) => i.namespaces.find((n) => n.type === "net");
      expect(net(seen)?.sharedWith).toBe("pod");
      expect(net(await rt.inspect(b.id))?.inode).toBe(net(seen)!.inode);
      const pid = (i: typeof seen) => i.namespaces.find((n) => n.type === "pid")?.inode;
      expect(pid(await rt.inspect(b.id))).not.toBe(pid(seen));
      expect(seen.rootfs.layers.map((l) => l.role)).toEqual(
        expect.arrayContaining(["container", "init", "image"]),
      );
      await rt.stopContainer(a.id, 0);
      const exited = await rt.inspect(a.id);
      expect(exited.namespaces).toEqual([]);
      expect(exited.rootfs.layers.length).toBe(seen.rootfs.layers.length);
      expect(await rt.inspect("no-such-container").catch((e) => e)).toBeInstanceOf(RuntimeError);
    });

    test("a sandbox on the host's network, PID and IPC: no pod IP, the host's namespaces, left intact on removal", async () => {
      const sb = { ...sandbox(), hostNamespaces: { network: true, pid: true, ipc: true } };
      const status = await rt.runPodSandbox(sb);
      expect(status.ready).toBe(true);
      expect(status.ip).toBeUndefined();
      const c = await rt.startContainer(container(sb, "on-host", options.commands.sleep));
      const seen = await rt.inspect(c.id);
      const shared = (type: string) => seen.namespaces.find((n) => n.type === type)?.sharedWith;
      for (const type of ["net", "uts", "ipc", "pid"]) expect(shared(type)).toBe("host");
      expect(shared("mnt")).toBe("container");
      await rt.stopPodSandbox(sb.podUid);
      await rt.removePodSandbox(sb.podUid);
      // nothing of the host went with it: a pod of its own still runs
      const after = sandbox();
      expect((await rt.runPodSandbox(after)).ready).toBe(true);
    });

    test("pullImage returns a stable image id; pulling again is idempotent", async () => {
      const a = await rt.pullImage(options.image, "IfNotPresent");
      const b = await rt.pullImage(options.image, "IfNotPresent");
      expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(b.id).toBe(a.id);
      expect(a.name.length).toBeGreaterThan(0);
      const never = await rt.pullImage(options.image, "Never");
      expect(never.id).toBe(a.id);
    });

    test.skipIf(!options.missingImage)(
      "a failing pull throws RuntimeError with a waiting reason",
      async () => {
        const missing = options.missingImage!;
        const err = await rt.pullImage(missing, "IfNotPresent").catch((e) => e);
        expect(err).toBeInstanceOf(RuntimeError);
        expect(["ErrImagePull", "InvalidImageName"]).toContain(err.reason);
        const never = await rt.pullImage(missing, "Never").catch((e) => e);
        expect(never).toBeInstanceOf(RuntimeError);
        expect(never.reason).toBe("ErrImageNeverPull");
      },
    );

    test("runPodSandbox is idempotent and listed", async () => {
      const sb = sandbox();
      const a = await rt.runPodSandbox(sb);
      const b = await rt.runPodSandbox(sb);
      expect(a.podUid).toBe(sb.podUid);
      expect(a.ready).toBe(true);
      expect(b.ip).toBe(a.ip);
      const listed = (await rt.listPodSandboxes()).filter((s) => s.podUid === sb.podUid);
      expect(listed).toHaveLength(1);
    });

    test("startContainer runs it; the same identity again returns the same container", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const cfg = container(sb, "main", options.commands.sleep);
      const a = await rt.startContainer(cfg);
      expect(a.state).toBe("running");
      expect(a.podUid).toBe(sb.podUid);
      expect(a.name).toBe("main");
      expect(a.attempt).toBe(0);
      expect(a.imageId).toMatch(/^sha256:/);
      expect(a.startedAt).toBeTruthy();
      const again = await rt.startContainer(cfg);
      expect(again.id).toBe(a.id);
      const next = await rt.startContainer({ ...cfg, attempt: 1 });
      expect(next.id).not.toBe(a.id);
      const mine = (await rt.listContainers()).filter((c) => c.podUid === sb.podUid);
      expect(mine.map((c) => c.attempt).sort()).toEqual([0, 1]);
    });

    test("exit is reported promptly through onEvent with its exit code", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const failing = await rt.startContainer(container(sb, "fails", options.commands.exit(3, 300)));
      const event = await nextExit(rt, failing.id);
      expect(event.podUid).toBe(sb.podUid);
      const status = await until(async () => {
        const s = await byId(rt, failing.id);
        return s?.state === "exited" ? s : undefined;
      }, "exited state");
      expect(status.exitCode).toBe(3);
      expect(status.reason).toBe("Error");
      expect(status.finishedAt).toBeTruthy();

      const ok = await rt.startContainer(container(sb, "ok", options.commands.exit(0, 300)));
      await nextExit(rt, ok.id);
      const done = await until(async () => {
        const s = await byId(rt, ok.id);
        return s?.state === "exited" ? s : undefined;
      }, "exited state");
      expect(done.exitCode).toBe(0);
      expect(done.reason).toBe("Completed");
    });

    test("stop and remove are idempotent, also for unknown ids", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer(container(sb, "main", options.commands.sleep));
      await rt.stopContainer(c.id, 1);
      const stopped = await byId(rt, c.id);
      expect(stopped?.state).toBe("exited");
      expect(stopped?.exitCode).not.toBe(0);
      await rt.stopContainer(c.id, 1);
      await rt.removeContainer(c.id);
      await rt.removeContainer(c.id);
      expect(await byId(rt, c.id)).toBeUndefined();
      await rt.stopContainer("does-not-exist", 1);
      await rt.removeContainer("does-not-exist");
    });

    test("logs hold what the container printed", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer(container(sb, "echo", options.commands.echo("hello from suite")));
      await until(async () => (await byId(rt, c.id))?.state === "exited", "echo to finish");
      const text = await new Response(rt.logs(c.id, {})).text();
      expect(text).toContain("hello from suite");
    });

    test("exec runs a command in a running container", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer(container(sb, "main", options.commands.sleep));
      const session = await rt.exec(c.id, ["echo", "exec-ok"], { tty: false, stdin: false });
      const [out, code] = await Promise.all([new Response(session.stdout).text(), session.exited]);
      expect(out).toContain("exec-ok");
      expect(code).toBe(0);
      const stats = await rt.stats(c.id);
      expect(stats?.memoryWorkingSetBytes).toBeGreaterThanOrEqual(0);
    });

    test("a process that cannot start: the container is exited with 128, StartError and why, and announced", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const events: RuntimeEvent[] = [];
      const off = rt.onEvent((e) => events.push(e));
      const c = await rt.startContainer(container(sb, "nobin", options.commands.missingBinary));
      expect(c.state).toBe("exited");
      expect(c.exitCode).toBe(128);
      expect(c.reason).toBe("StartError");
      expect(c.message).toMatch(/not found|No such file/);
      await until(
        async () => events.some((e) => e.type === "exited" && e.containerId === c.id),
        "exit event",
      );
      off();
      // a restart is a new attempt; the failed one stays listed (for lastState) until removed
      const again = await rt.startContainer(container(sb, "nobin", options.commands.missingBinary, 1));
      expect(again.id).not.toBe(c.id);
      expect((await byId(rt, c.id))?.reason).toBe("StartError");
      await rt.removeContainer(c.id);
      expect(await byId(rt, c.id)).toBeUndefined();
    });

    /** Reads a session's output until it holds `text`. */
    async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
      let seen = "";
      const dec = new TextDecoder();
      const deadline = Date.now() + eventTimeoutMs;
      while (!seen.includes(text)) {
        if (Date.now() > deadline) throw new Error(`attach output ${JSON.stringify(seen)} lacks ${text}`);
        const { done, value } = await reader.read();
        if (done) throw new Error(`attach output ended at ${JSON.stringify(seen)} before ${text}`);
        seen += dec.decode(value);
      }
      return seen;
    }

    test("attach with stdinOnce: stdin reaches the main process, its output comes back, EOF ends it", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer({
        ...container(sb, "cat", options.commands.cat),
        stdin: true,
        stdinOnce: true,
      });
      const session = await rt.attach(c.id, { tty: false, stdin: true });
      const stdin = session.stdin!.getWriter();
      const out = session.stdout.getReader();
      await stdin.write(new TextEncoder().encode("hello attach\n"));
      expect(await readUntil(out, "hello attach")).toBe("hello attach\n");
      const exit = nextExit(rt, c.id);
      await stdin.close();
      await exit;
      expect(await session.exited).toBe(0);
      expect((await byId(rt, c.id))?.exitCode).toBe(0);
    });

    test("attach without stdinOnce: a client leaving keeps the container and its stdin; output is from now on", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer({ ...container(sb, "cat", options.commands.cat), stdin: true });
      const first = await rt.attach(c.id, { tty: false, stdin: true });
      const w1 = first.stdin!.getWriter();
      await w1.write(new TextEncoder().encode("one\n"));
      await readUntil(first.stdout.getReader(), "one");
      await w1.close();
      first.kill();
      expect(await first.exited).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
      expect((await byId(rt, c.id))?.state).toBe("running");
      const second = await rt.attach(c.id, { tty: false, stdin: true });
      await second.stdin!.getWriter().write(new TextEncoder().encode("two\n"));
      expect(await readUntil(second.stdout.getReader(), "two")).toBe("two\n");
      second.kill();
      // without `stdin` in its config a container offers no stdin to attach to
      const quiet = await rt.startContainer(container(sb, "quiet", options.commands.sleep));
      const third = await rt.attach(quiet.id, { tty: false, stdin: true });
      expect(third.stdin).toBeUndefined();
      third.kill();
    });

    test("stopPodSandbox stops its containers; removePodSandbox removes them", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const c = await rt.startContainer(container(sb, "main", options.commands.sleep));
      await rt.stopPodSandbox(sb.podUid);
      expect((await byId(rt, c.id))?.state).toBe("exited");
      await rt.stopPodSandbox(sb.podUid);
      await rt.removePodSandbox(sb.podUid);
      await rt.removePodSandbox(sb.podUid);
      expect((await rt.listPodSandboxes()).some((s) => s.podUid === sb.podUid)).toBe(false);
      expect((await rt.listContainers()).some((x) => x.podUid === sb.podUid)).toBe(false);
    });

    test("a restarted runtime object adopts running containers and reports their exits", async () => {
      const sb = sandbox();
      await rt.runPodSandbox(sb);
      const sleeper = await rt.startContainer(container(sb, "sleeper", options.commands.sleep));
      const exiter = await rt.startContainer(container(sb, "exiter", options.commands.exit(5, 1500)));
      await rt.close();
      const second = await factory();
      try {
        await second.start();
        const exitEvent = nextExit(second, exiter.id);
        const listed = await second.listContainers();
        expect(listed.filter((c) => c.id === sleeper.id)).toHaveLength(1);
        expect(listed.find((c) => c.id === sleeper.id)?.state).toBe("running");
        expect((await second.listPodSandboxes()).some((s) => s.podUid === sb.podUid)).toBe(true);
        await exitEvent;
        const status = await until(async () => {
          const s = await byId(second, exiter.id);
          return s?.state === "exited" ? s : undefined;
        }, "adopted container to exit");
        expect(status.exitCode).toBe(5);
        await second.stopContainer(sleeper.id, 1);
        expect((await byId(second, sleeper.id))?.state).toBe("exited");
      } finally {
        await second.close();
        rt = await factory();
        await rt.start();
      }
    });
  });
}
