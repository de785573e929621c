import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import type { ContainerStatus, SecurityOptions } from "../../core/seams/container-runtime.ts";
import { host, skipUnless, waitFor } from "../../test/support/env.ts";
import { detectCgroupHost } from "../cgroups/cgroup-host.ts";
import { ALL_CAPS, DOCKER_DEFAULT_CAPS } from "../oci/capabilities.ts";
import { cgroupOf, createFixture, type Fixture, listDir, mountsUnder } from "./testing/fixture.ts";

/**
 * CrunRuntime against real crun, namespaces and cgroups, with a busybox image made on the spot.
 * Each test uses its own pod; the last test checks nothing is left behind.
 */
describe.skipIf(skipUnless(host.canRunContainers, "crun runtime", "needs root and crun"))(
  "CrunRuntime",
  () => {
    let f: Fixture;
    beforeAll(async () => {
      f = await createFixture();
    }, 60_000);
    afterAll(async () => {
      await f?.cleanup();
    }, 60_000);

    const byId = async (id: string): Promise<ContainerStatus | undefined> =>
      (await f.rt.listContainers()).find((c) => c.id === id);
    const exited = (id: string) =>
      waitFor(
        async () => {
          const s = await byId(id);
          return s?.state === "exited" ? s : undefined;
        },
        { what: `container ${id} to exit` },
      );
    const ns = (pid: number | "self", kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);

    test("version() is crun's own, as `crun --version` prints it", () => {
      const printed = Bun.spawnSync(["crun", "--version"]).stdout.toString();
      expect(printed).toContain(`crun version ${f.rt.version().replace("crun://", "")}\n`);
    });

    test("a container gets its own pid/net/ipc/uts/mnt/cgroup namespaces; a pod's containers share net/ipc/uts", async () => {
      const sb = f.sandbox("web");
      await f.rt.runPodSandbox(sb);
      const a = await f.rt.startContainer(f.container(sb, "a", ["sleep", "60"]));
      const b = await f.rt.startContainer(f.container(sb, "b", ["sleep", "60"]));
      expect(a.state).toBe("running");
      const pa = a.pid!;
      const pb = b.pid!;
      for (const kind of ["pid", "net", "ipc", "uts", "mnt", "cgroup"])
        expect(ns(pa, kind)).not.toBe(ns("self", kind));
      for (const kind of ["net", "ipc", "uts"]) expect(ns(pb, kind)).toBe(ns(pa, kind));
      for (const kind of ["pid", "mnt"]) expect(ns(pb, kind)).not.toBe(ns(pa, kind));
      // One /dev/shm per pod (shared IPC needs shared POSIX shm too).
      const w = await f.rt.exec(a.id, ["sh", "-c", "echo shared > /dev/shm/x"], { tty: false, stdin: false });
      expect(await w.exited).toBe(0);
      const r = await f.rt.exec(b.id, ["cat", "/dev/shm/x"], { tty: false, stdin: false });
      expect(await new Response(r.stdout).text()).toBe("shared\n");
      // hostname = pod name; /etc/hosts from the pod's init layer; lo is up in the pod's netns.
      const s = await f.rt.exec(
        a.id,
        ["sh", "-c", "hostname; cat /etc/hostname; cat /sys/class/net/lo/operstate; cat /etc/resolv.conf"],
        { tty: false, stdin: false },
      );
      const out = await new Response(s.stdout).text();
      expect(await s.exited).toBe(0);
      expect(out.split("\n").slice(0, 2)).toEqual(["web", "web"]);
      expect(out).toMatch(/\n(unknown|up)\n/);
      expect(out).toContain("nameserver 10.96.0.10");
      expect(out).toContain("options ndots:5");
    });

    test("security: runAs user/group, read-only root, Docker's capabilities, add/drop, no new privileges, masked /proc", async () => {
      const sb = f.sandbox("secure");
      await f.rt.runPodSandbox(sb);
      const mask = (caps: string[]) => caps.reduce((m, c) => m | (1n << BigInt(ALL_CAPS.indexOf(c))), 0n);
      const probe =
        "id -u; id -g; grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/self/status | tr -s '\\t' ' '; " +
        "wc -c < /proc/timer_list; grep ' /proc/sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; touch /x 2>/dev/null && echo rw || echo ro";
      const run = async (name: string, security: SecurityOptions) => {
        const c = await f.rt.startContainer(f.container(sb, name, ["sh", "-c", probe], { security }));
        await exited(c.id);
        return (await new Response(f.rt.logs(c.id, {})).text()).trim().split("\n");
      };
      const hex = (m: bigint) => m.toString(16).padStart(16, "0");
      expect(await run("plain", {})).toEqual([
        "0",
        "0",
        `CapEff: ${hex(mask(DOCKER_DEFAULT_CAPS))}`,
        `CapBnd: ${hex(mask(DOCKER_DEFAULT_CAPS))}`,
        "NoNewPrivs: 0",
        "0", // /proc/timer_list masked (empty)
        "ro",
        "rw",
      ]);
      expect(hex(mask(DOCKER_DEFAULT_CAPS))).toBe("00000000a80425fb"); // what `docker run` shows
      const locked = await run("locked", {
        runAsUser: 65534,
        runAsGroup: 65534,
        readOnlyRootFilesystem: true,
        capabilitiesDrop: ["ALL"],
        capabilitiesAdd: ["NET_ADMIN"],
        allowPrivilegeEscalation: false,
      });
      expect(locked.slice(0, 2)).toEqual(["65534", "65534"]);
      expect(locked).toContain(`CapBnd: ${hex(1n << 12n)}`);
      expect(locked).toContain("NoNewPrivs: 1");
      expect(locked.at(-1)).toBe("ro");
    });

    test("cgroup limits land under minik's own cgroup with the asked values", async () => {
      const sb = f.sandbox("limits");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(
        f.container(sb, "main", ["sleep", "60"], {
          resources: {
            cpuLimitMillis: 300,
            cpuRequestMillis: 100,
            memoryLimitBytes: 32 << 20,
            pidsLimit: 64,
          },
        }),
      );
      const cg = detectCgroupHost();
      const path = cgroupOf(c.pid!, cg.mode === "v2" ? "" : "memory")!;
      expect(path.startsWith(`${cg.base === "/" ? "" : cg.base}/minik/${sb.podUid}/`)).toBe(true);
      const own = readFileSync("/proc/self/cgroup", "utf8");
      for (const line of own.trim().split("\n")) {
        const [, ctrls, ownPath] = line.split(":");
        if (cg.mode !== "v2" && ctrls === "") continue;
        const p = cgroupOf(c.pid!, ctrls!.split(",")[0]!);
        if (p) expect(p.startsWith(ownPath === "/" ? "/" : `${ownPath}/`)).toBe(true);
      }
      const read = (controller: string, file: string) =>
        readFileSync(
          `${cg.hierarchies.find((h) => cg.mode === "v2" || h.controllers.includes(controller))!.mount}${path}/${file}`,
          "utf8",
        ).trim();
      if (cg.mode === "v2") {
        expect(read("cpu", "cpu.max")).toBe("30000 100000");
        expect(read("memory", "memory.max")).toBe(String(32 << 20));
      } else {
        expect(read("cpu", "cpu.cfs_quota_us")).toBe("30000");
        expect(read("cpu", "cpu.cfs_period_us")).toBe("100000");
        expect(read("cpu", "cpu.shares")).toBe("102");
        expect(read("memory", "memory.limit_in_bytes")).toBe(String(32 << 20));
        expect(read("pids", "pids.max")).toBe("64");
      }
      const stats = await f.rt.stats(c.id);
      expect(stats?.memoryLimitBytes).toBe(32 << 20);
      expect(stats!.memoryUsageBytes).toBeGreaterThan(0);
      expect(stats!.cpuUsageNanoSeconds).toBeGreaterThan(0);
    });

    test("exit code is recorded and the exited event arrives within a second", async () => {
      const sb = f.sandbox("exits");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "exit7", ["sh", "-c", "sleep 0.2; exit 7"]));
      const t0 = Date.now(); // the container exits 200 ms after this, give or take its start-up
      await f.nextEvent(f.rt, (e) => e.type === "exited" && e.containerId === c.id);
      expect(Date.now() - t0).toBeLessThan(1200);
      const s = await exited(c.id);
      expect(s.exitCode).toBe(7);
      expect(s.reason).toBe("Error");
      const told = await f.rt.startContainer(
        f.container(sb, "told", ["sh", "-c", "echo 'config missing' > /dev/termination-log; exit 2"], {
          terminationMessagePath: "/dev/termination-log",
        }),
      );
      const t = await exited(told.id);
      expect([t.exitCode, t.message]).toEqual([2, "config missing\n"]);
    });

    test("SIGKILL from outside → exited with 137", async () => {
      const sb = f.sandbox("killed");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "60"]));
      const ev = f.nextEvent(f.rt, (e) => e.type === "exited" && e.containerId === c.id);
      process.kill(c.pid!, "SIGKILL");
      await ev;
      const s = await exited(c.id);
      expect(s.exitCode).toBe(137);
      expect(s.reason).toBe("Error");
    });

    test("a memory hog is OOMKilled", async () => {
      const sb = f.sandbox("oom");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(
        f.container(sb, "hog", ["sh", "-c", "a=$(head -c 60000000 /dev/zero | tr '\\0' x); echo survived"], {
          resources: { memoryLimitBytes: 16 << 20 },
        }),
      );
      const s = await exited(c.id);
      expect(s.reason).toBe("OOMKilled");
      expect(s.exitCode).toBe(137);
    });

    test("graceful stop of a SIGTERM-ignoring PID 1 escalates to SIGKILL after the grace period", async () => {
      const sb = f.sandbox("grace");
      await f.rt.runPodSandbox(sb);
      const stubborn = await f.rt.startContainer(f.container(sb, "stubborn", ["sleep", "60"]));
      let t = Date.now();
      await f.rt.stopContainer(stubborn.id, 1);
      const took = Date.now() - t;
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(3000);
      expect((await byId(stubborn.id))?.exitCode).toBe(137);

      const polite = await f.rt.startContainer(
        f.container(sb, "polite", [
          "sh",
          "-c",
          "trap 'exit 0' TERM; echo trapping; while true; do sleep 0.05; done",
        ]),
      );
      // A TERM before the trap is set would be dropped (PID 1 without a handler).
      await waitFor(async () => (await new Response(f.rt.logs(polite.id, {})).text()).includes("trapping"));
      t = Date.now();
      await f.rt.stopContainer(polite.id, 10);
      expect(Date.now() - t).toBeLessThan(2000);
      const s = await byId(polite.id);
      expect(s?.exitCode).toBe(0);
      expect(s?.reason).toBe("Completed");
    });

    test("logs: whole, tail, limit, timestamps, and follow until the container exits", async () => {
      const sb = f.sandbox("logs");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(
        f.container(sb, "printer", [
          "sh",
          "-c",
          "echo one; echo two >&2; sleep 0.3; echo three; sleep 0.3; echo four",
        ]),
      );
      const followed = await new Response(f.rt.logs(c.id, { follow: true })).text();
      expect(followed).toBe("one\ntwo\nthree\nfour\n");
      await exited(c.id);
      expect(await new Response(f.rt.logs(c.id, { tailLines: 2 })).text()).toBe("three\nfour\n");
      expect(await new Response(f.rt.logs(c.id, { limitBytes: 6 })).text()).toBe("one\ntw");
      const stamped = await new Response(f.rt.logs(c.id, { timestamps: true, tailLines: 1 })).text();
      expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z four\n$/);
      const ac = new AbortController();
      const sleeper = await f.rt.startContainer(
        f.container(sb, "sleeper", ["sh", "-c", "echo up; sleep 60"]),
      );
      const reader = f.rt.logs(sleeper.id, { follow: true, signal: ac.signal }).getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe("up\n");
      ac.abort();
      expect((await reader.read()).done).toBe(true);
    });

    test("exec with pipes: stdout, stderr, stdin and the exit code", async () => {
      const sb = f.sandbox("exec");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "60"]));
      const s = await f.rt.exec(c.id, ["sh", "-c", "echo out; echo err >&2; exit 4"], {
        tty: false,
        stdin: false,
      });
      const [out, err, code] = await Promise.all([
        new Response(s.stdout).text(),
        new Response(s.stderr!).text(),
        s.exited,
      ]);
      expect([out, err, code]).toEqual(["out\n", "err\n", 4]);

      const cat = await f.rt.exec(c.id, ["cat"], { tty: false, stdin: true });
      const w = cat.stdin!.getWriter();
      await w.write(new TextEncoder().encode("piped\n"));
      await w.close();
      expect(await new Response(cat.stdout).text()).toBe("piped\n");
      expect(await cat.exited).toBe(0);
    });

    // crun 1.8.1 races its console set-up against the process: a `stty` in the first instants
    // fails about 1 time in 30 (measured), hence the short sleep; an interactive shell never sees it.
    test("exec with a tty: a real terminal of the asked size", async () => {
      const sb = f.sandbox("tty");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sleep", "60"]));
      const s = await f.rt.exec(c.id, ["sh", "-c", "sleep 0.05; tty; stty size"], {
        tty: true,
        stdin: false,
        size: { cols: 100, rows: 30 },
      });
      expect(s.stderr).toBeUndefined();
      const [out, code] = await Promise.all([new Response(s.stdout).text(), s.exited]);
      expect(code).toBe(0);
      expect(out).toMatch(/\/dev\/pts\/\d+\r?\n30 100/);

      const shell = await f.rt.exec(c.id, ["sh"], { tty: true, stdin: true, size: { cols: 80, rows: 24 } });
      const w = shell.stdin!.getWriter();
      shell.resize(120, 40);
      await w.write(new TextEncoder().encode("stty size; exit 3\n"));
      const [text, rc] = await Promise.all([new Response(shell.stdout).text(), shell.exited]);
      expect(text).toContain("40 120");
      expect(rc).toBe(3);
    });

    test("volumes: emptyDir shared by containers, memory emptyDir is tmpfs, files, read-only", async () => {
      const sb = f.sandbox("vols");
      await f.rt.runPodSandbox(sb);
      const mounts = [
        {
          volume: "shared",
          source: { type: "emptyDir" as const },
          containerPath: "/shared",
          readOnly: false,
        },
        {
          volume: "mem",
          source: { type: "emptyDir" as const, medium: "Memory" as const },
          containerPath: "/mem",
          readOnly: false,
        },
        {
          volume: "cfg",
          source: { type: "files" as const, files: { "app.conf": "x=1\n" } },
          containerPath: "/cfg",
          readOnly: true,
        },
      ];
      const writer = await f.rt.startContainer(
        f.container(sb, "writer", ["sh", "-c", "echo hello > /shared/f; sleep 60"], { mounts }),
      );
      const reader = await f.rt.startContainer(f.container(sb, "reader", ["sleep", "60"], { mounts }));
      await waitFor(() => existsSync(`${f.dataDir}/pods/${sb.podUid}/volumes/shared/f`), { what: "writer" });
      const s = await f.rt.exec(
        reader.id,
        [
          "sh",
          "-c",
          "cat /shared/f /cfg/app.conf; grep ' /mem ' /proc/mounts | cut -d' ' -f3; touch /cfg/x || echo ro",
        ],
        { tty: false, stdin: false },
      );
      expect(await new Response(s.stdout).text()).toBe("hello\nx=1\ntmpfs\nro\n");
      expect(writer.state).toBe("running");
    });

    test("a shorter grace (a force delete) cuts a stop under way short", async () => {
      const sb = f.sandbox("cut-short");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(
        f.container(sb, "main", [
          "sh",
          "-c",
          'trap "echo term" TERM; echo trapping; while :; do sleep 0.05; done',
        ]),
      );
      // A TERM before the trap is set would be dropped (PID 1 without a handler).
      await waitFor(async () => (await new Response(f.rt.logs(c.id, {})).text()).includes("trapping"));
      const graceful = f.rt.stopContainer(c.id, 30);
      await waitFor(async () => (await new Response(f.rt.logs(c.id, {})).text()).includes("term"), {
        what: "the SIGTERM to arrive",
      });
      const began = performance.now();
      await f.rt.stopContainer(c.id, 1);
      await graceful;
      const took = performance.now() - began;
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(10_000);
      expect((await exited(c.id)).exitCode).toBe(137);
      await f.rt.removePodSandbox(sb.podUid);
    });

    test("removal kills what an exited init left in its cgroup (host PID namespace), then removes it", async () => {
      // The state dir is removed without a crun process only when the cgroup is empty; here the
      // init exits (after 1 s, for the test to find its cgroup) and its child lives on (no PID
      // namespace of its own to take it down).
      const sb = { ...f.sandbox("leftover"), hostNamespaces: { pid: true } };
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(f.container(sb, "main", ["sh", "-c", "sleep 600 & sleep 1"]));
      const cg = detectCgroupHost();
      const path = cgroupOf(c.pid!, cg.mode === "v2" ? "" : "memory")!;
      await exited(c.id);
      const dir = `${cg.mode === "v2" ? cg.hierarchies[0]!.mount : cg.hierarchies.find((h) => h.controllers.includes("memory"))!.mount}${path}`;
      const left = readFileSync(`${dir}/cgroup.procs`, "utf8").trim().split("\n").filter(Boolean).map(Number);
      expect(left.length).toBe(1);
      const isGone = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
        } catch {
          return true;
        }
      };
      try {
        expect(isGone(left[0]!)).toBe(false);
        await f.rt.removeContainer(c.id);
        expect(isGone(left[0]!)).toBe(true);
        expect(existsSync(dir)).toBe(false);
        expect(listDir(`${f.dataDir}/run/crun`)).not.toContain(c.id);
      } finally {
        if (!isGone(left[0]!)) process.kill(left[0]!, "SIGKILL"); // a failed removal leaves no process
        await f.rt.removePodSandbox(sb.podUid).catch(() => {});
      }
    });

    test("nothing is left behind after removePodSandbox: mounts, cgroups, crun state", async () => {
      const sb = f.sandbox("gone");
      await f.rt.runPodSandbox(sb);
      const c = await f.rt.startContainer(
        f.container(sb, "main", ["sleep", "60"], {
          resources: { memoryLimitBytes: 32 << 20 },
          mounts: [
            {
              volume: "m",
              source: { type: "emptyDir", medium: "Memory" },
              containerPath: "/m",
              readOnly: false,
            },
          ],
        }),
      );
      const cg = detectCgroupHost();
      const memPath = cgroupOf(c.pid!, cg.mode === "v2" ? "" : "memory")!;
      await f.rt.removePodSandbox(sb.podUid);
      expect(
        mountsUnder(`${f.dataDir}/run`).filter((m) => m.includes(sb.podUid) || m.includes(c.id)),
      ).toEqual([]);
      expect(listDir(`${f.dataDir}/run/crun`)).not.toContain(c.id);
      for (const h of cg.hierarchies) expect(existsSync(`${h.mount}${memPath}`)).toBe(false);
      for (const h of cg.hierarchies)
        expect(existsSync(`${h.mount}${memPath.replace(/\/[^/]+$/, "")}`)).toBe(false);
      expect(existsSync(`${f.dataDir}/pods/${sb.podUid}`)).toBe(false);
      expect(existsSync(`${f.dataDir}/containers/${c.id}`)).toBe(false);
      expect((await f.rt.listContainers()).some((x) => x.id === c.id)).toBe(false);
    });
  },
);
