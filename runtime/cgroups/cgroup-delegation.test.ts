import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delegateCgroup, missingControllers, scopeName } from "./cgroup-delegation.ts";
import { parseCgroupHost } from "./cgroup-host.ts";
import { applyPodLimits, podCgroupPath, preparePodCgroupV2 } from "./cgroup-tree.ts";
import { ALL_CONTROLLERS, createFakeSystemd, type FakeSystemd, fakeCgroup } from "./testing/fake-systemd.ts";

/**
 * Getting a delegated cgroup on a cgroup v2 host, against a fake cgroupfs and a fake systemd
 * (Debian 12's real one is exercised by scripts/test-cgroup2).
 */
const DATA_DIR = "/var/lib/minik";
const SCOPE = scopeName(DATA_DIR);
const SCOPE_CG = `/minik.slice/${SCOPE}`;
const SERVICE = "/system.slice/minik.service";
const PID = 4242;

describe("cgroup v2 delegation under systemd", () => {
  let root: string;
  let logs: string[];
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** minik started in `own`, whose parent hands it `controllers`. */
  function start(own: string, controllers: string): FakeSystemd {
    root = mkdtempSync("/tmp/minik-cgdeleg-");
    logs = [];
    fakeCgroup(`${root}${own}`, controllers, `${PID}\n`);
    return createFakeSystemd(root, own);
  }

  function delegate(systemd: FakeSystemd | undefined, host = systemd!.host()) {
    return delegateCgroup({
      host,
      systemd,
      dataDir: DATA_DIR,
      pid: PID,
      detect: () => systemd!.host(),
      log: (m) => logs.push(m),
    });
  }

  test("a service without cpu: minik gets a delegated scope, moves into its leaf, enables the controllers", async () => {
    const systemd = start(SERVICE, "memory pids");
    expect(missingControllers(systemd.host())).toEqual(["cpu"]);
    const host = await delegate(systemd);
    expect(systemd.calls).toContain(`startScope ${SCOPE} in minik.slice pid ${PID} Delegate=yes`);
    expect(host.base).toBe(SCOPE_CG);
    expect(readFileSync(`${root}${SCOPE_CG}/minik-supervisor/cgroup.procs`, "utf8")).toBe(String(PID));
    expect(readFileSync(`${root}${SCOPE_CG}/cgroup.subtree_control`, "utf8")).toBe(
      "+cpuset +cpu +io +memory +pids",
    );
    expect(podCgroupPath(host, "pod-1")).toBe(`${SCOPE_CG}/minik/pod-1`);
    // the service's own cgroup is left as systemd made it
    expect(readFileSync(`${root}${SERVICE}/cgroup.subtree_control`, "utf8")).toBe("\n");
  });

  test("a login session's scope is left the same way", async () => {
    const systemd = start("/user.slice/user-0.slice/session-3.scope", "memory pids");
    expect((await delegate(systemd)).base).toBe(SCOPE_CG);
  });

  test("a delegated unit (Delegate=yes) still gets the scope, so the unit can restart while pods run", async () => {
    const systemd = start(SERVICE, ALL_CONTROLLERS);
    expect((await delegate(systemd)).base).toBe(SCOPE_CG);
    expect(readFileSync(`${root}${SERVICE}/cgroup.subtree_control`, "utf8")).toBe("\n");
  });

  test("a restarted minik joins the running scope in its leaf, next to the pods", async () => {
    const systemd = start(SERVICE, "memory pids");
    systemd.addRunningScope(SCOPE, SCOPE_CG);
    writeFileSync(`${root}${SCOPE_CG}/cgroup.subtree_control`, "cpuset cpu io memory pids\n");
    fakeCgroup(`${root}${SCOPE_CG}/minik/pod-1`, "cpuset cpu io memory pids");
    const host = await delegate(systemd);
    expect(systemd.calls).toEqual([
      `unitState ${SCOPE}`,
      `attachProcess ${SCOPE} /minik-supervisor pid ${PID}`,
    ]);
    expect(systemd.self).toBe(`${SCOPE_CG}/minik-supervisor`);
    expect(host.base).toBe(SCOPE_CG);
  });

  test("already in the scope's leaf: nothing to ask", async () => {
    const systemd = start(SERVICE, "memory pids");
    systemd.addRunningScope(SCOPE, SCOPE_CG);
    fakeCgroup(`${root}${SCOPE_CG}/minik-supervisor`, ALL_CONTROLLERS, `${PID}\n`);
    systemd.self = `${SCOPE_CG}/minik-supervisor`;
    await delegate(systemd);
    expect(systemd.calls).toEqual([`unitState ${SCOPE}`]);
  });

  test("one scope per data dir", () => {
    expect(scopeName("/var/lib/minik")).toMatch(/^minik-[0-9a-f]{8}\.scope$/);
    expect(scopeName("/var/lib/minik")).toBe(SCOPE);
    expect(scopeName("/tmp/other")).not.toBe(SCOPE);
  });

  test("no scope and no cpu: a clear error naming the fix", async () => {
    const systemd = start(SERVICE, "memory pids");
    systemd.failWith = "busctl call … failed: Failed to connect to bus: No such file or directory";
    const err = await delegate(systemd).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      `cgroup v2: the cpu controller is not delegated to ${SERVICE} and systemd gave minik no scope of its own ` +
        "(busctl call … failed: Failed to connect to bus: No such file or directory); run minik from the " +
        "shipped unit scripts/minik.service (Delegate=yes) or under `systemd-run -p Delegate=yes minik up`",
    );
    expect(existsSync(`${root}${SERVICE}/minik-supervisor`)).toBe(false);
  });

  test("no scope but a delegated unit: pods stay below the unit, with a warning", async () => {
    const systemd = start(SERVICE, ALL_CONTROLLERS);
    systemd.failWith = "Failed to connect to bus";
    const host = await delegate(systemd);
    expect(host.base).toBe(SERVICE);
    expect(readFileSync(`${root}${SERVICE}/cgroup.subtree_control`, "utf8")).toBe(
      "+cpuset +cpu +io +memory +pids",
    );
    expect(logs.join("\n")).toContain(
      "warning: Failed to connect to bus; pods run below /system.slice/minik.service",
    );
  });
});

describe("cgroup v2 delegation without systemd", () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("the cgroup minik runs in is used; missing controllers are a warning, pods needing them a clear error", async () => {
    root = mkdtempSync("/tmp/minik-cgdeleg-");
    fakeCgroup(`${root}/box`, "memory pids", `${PID}\n`);
    const detect = () => parseCgroupHost(`30 23 0:26 / ${root} rw - cgroup2 cgroup2 rw`, "0::/box\n");
    const logs: string[] = [];
    const host = await delegateCgroup({
      host: detect(),
      dataDir: DATA_DIR,
      pid: PID,
      detect,
      log: (m) => logs.push(m),
    });
    expect(host.base).toBe("/box");
    expect(readFileSync(`${root}/box/cgroup.subtree_control`, "utf8")).toBe("+memory +pids");
    expect(logs).toEqual([
      "warning: cgroup v2: the cpu controller is not delegated to /box, so pods cannot get those limits; " +
        "start minik in a cgroup whose parent enables them in cgroup.subtree_control",
    ]);
    // cgroupfs gives a pod cgroup memory.max but no cpu.max
    for (const d of [`${root}/box/minik`, `${root}/box/minik/pod-1`]) fakeCgroup(d, "memory pids");
    writeFileSync(`${root}/box/minik/pod-1/memory.max`, "max\n");
    preparePodCgroupV2(host, "pod-1");
    expect(() => applyPodLimits(host, "pod-1", { memoryLimitBytes: 100663296, cpuLimitMillis: 500 })).toThrow(
      "cgroup v2: the cpu controller is not enabled for /box/minik/pod-1 (not delegated to /box)",
    );
    expect(readFileSync(`${root}/box/minik/pod-1/memory.max`, "utf8")).toBe("100663296");
  });

  test("v1 and hybrid hosts are left alone", async () => {
    root = mkdtempSync("/tmp/minik-cgdeleg-");
    const host = parseCgroupHost(
      "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
      "4:memory:/job\n1:cpu:/\n",
    );
    const got = await delegateCgroup({
      host,
      dataDir: DATA_DIR,
      pid: PID,
      detect: () => host,
      log: () => {},
    });
    expect(got).toBe(host);
  });
});
