import { describe, expect, test } from "bun:test";
import { effectiveCaps } from "./capabilities.ts";
import { containerArgv, containerEnv } from "./process.ts";
import { buildOciSpec, cpuShares, type SpecInput } from "./spec.ts";

const input: SpecInput = {
  rootfs: "/data/run/rootfs/c1",
  args: ["sh", "-c", "sleep 1"],
  env: ["PATH=/bin", "A=1"],
  cwd: "/work",
  user: { uid: 1000, gid: 1000 },
  hostname: "web-0",
  namespaces: {
    network: "/data/run/pods/u1/net",
    ipc: "/data/run/pods/u1/ipc",
    uts: "/data/run/pods/u1/uts",
  },
  cgroupsPath: "/job/minik/u1/c1",
  resources: { cpuLimitMillis: 300, cpuRequestMillis: 250, memoryLimitBytes: 67108864, pidsLimit: 100 },
  security: {},
  mounts: [{ destination: "/dev/shm", source: "/data/run/pods/u1/shm", readOnly: false }],
  nofileHardLimit: 20000,
  swapAccounting: true,
};

describe("buildOciSpec", () => {
  test("a plain container: exact config.json", () => {
    const spec = buildOciSpec(input);
    const caps = [
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_FSETID",
      "CAP_FOWNER",
      "CAP_MKNOD",
      "CAP_NET_RAW",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETFCAP",
      "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",
      "CAP_SYS_CHROOT",
      "CAP_KILL",
      "CAP_AUDIT_WRITE",
    ];
    expect(spec).toEqual({
      ociVersion: "1.0.2",
      process: {
        terminal: false,
        user: { uid: 1000, gid: 1000 },
        args: ["sh", "-c", "sleep 1"],
        env: ["PATH=/bin", "A=1"],
        cwd: "/work",
        capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
        rlimits: [{ type: "RLIMIT_NOFILE", hard: 20000, soft: 20000 }],
        noNewPrivileges: false,
      },
      root: { path: "/data/run/rootfs/c1", readonly: false },
      hostname: "web-0",
      mounts: [
        { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
        {
          destination: "/dev",
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
          destination: "/dev/pts",
          type: "devpts",
          source: "devpts",
          options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
          destination: "/dev/mqueue",
          type: "mqueue",
          source: "mqueue",
          options: ["nosuid", "noexec", "nodev"],
        },
        { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
        {
          destination: "/sys/fs/cgroup",
          type: "cgroup",
          source: "cgroup",
          options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
        {
          destination: "/dev/shm",
          type: "bind",
          source: "/data/run/pods/u1/shm",
          options: ["rbind", "rprivate", "rw"],
        },
      ],
      linux: {
        cgroupsPath: "/job/minik/u1/c1",
        namespaces: [
          { type: "pid" },
          { type: "network", path: "/data/run/pods/u1/net" },
          { type: "ipc", path: "/data/run/pods/u1/ipc" },
          { type: "uts", path: "/data/run/pods/u1/uts" },
          { type: "mount" },
          { type: "cgroup" },
        ],
        resources: {
          devices: [{ allow: false, access: "rwm" }],
          cpu: { shares: 256, quota: 30000, period: 100000 },
          memory: { limit: 67108864, swap: 67108864 },
          pids: { limit: 100 },
        },
        maskedPaths: [
          "/proc/acpi",
          "/proc/asound",
          "/proc/interrupts",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/sys/devices/virtual/powercap",
          "/sys/firmware",
        ],
        readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
      },
    });
  });

  test("security options: runAs, read-only root, caps, no new privileges", () => {
    const spec = buildOciSpec({
      ...input,
      security: {
        runAsUser: 65534,
        runAsGroup: 65534,
        supplementalGroups: [5],
        readOnlyRootFilesystem: true,
        capabilitiesAdd: ["NET_ADMIN"],
        capabilitiesDrop: ["CHOWN", "cap_kill"],
        allowPrivilegeEscalation: false,
      },
    });
    expect(spec.process.user).toEqual({ uid: 65534, gid: 65534, additionalGids: [5] });
    expect(spec.root.readonly).toBe(true);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.capabilities.bounding).toContain("CAP_NET_ADMIN");
    expect(spec.process.capabilities.bounding).not.toContain("CAP_CHOWN");
    expect(spec.process.capabilities.bounding).not.toContain("CAP_KILL");
    expect(spec.process.capabilities.bounding).toHaveLength(13);
  });

  test("privileged: every capability, nothing masked, devices allowed, sysfs writable", () => {
    const spec = buildOciSpec({ ...input, security: { privileged: true } });
    expect(spec.process.capabilities.bounding).toHaveLength(41);
    expect(spec.linux.maskedPaths).toBeUndefined();
    expect(spec.linux.readonlyPaths).toBeUndefined();
    expect(spec.linux.resources.devices).toEqual([{ allow: true, access: "rwm" }]);
    expect(spec.mounts.find((m) => m.destination === "/sys")?.options).toContain("rw");
  });

  test("no limits: best-effort shares only; no swap without memsw; own namespaces when not shared", () => {
    const spec = buildOciSpec({
      ...input,
      resources: { memoryLimitBytes: 1 << 20 },
      swapAccounting: false,
      namespaces: {},
    });
    expect(spec.linux.resources).toEqual({
      devices: [{ allow: false, access: "rwm" }],
      cpu: { shares: 2 },
      memory: { limit: 1 << 20 },
    });
    expect(spec.linux.namespaces.every((n) => n.path === undefined)).toBe(true);
  });

  test("host namespaces are left out (hostNetwork brings the host's UTS, so no hostname)", () => {
    const types = (host: SpecInput["host"]) =>
      buildOciSpec({ ...input, host }).linux.namespaces.map((n) => n.type);
    expect(types({ network: true })).toEqual(["pid", "ipc", "mount", "cgroup"]);
    expect(types({ pid: true, ipc: true })).toEqual(["network", "uts", "mount", "cgroup"]);
    expect(types({ network: true, pid: true, ipc: true })).toEqual(["mount", "cgroup"]);
    expect(buildOciSpec({ ...input, host: { network: true } }).hostname).toBeUndefined();
    expect(buildOciSpec({ ...input, host: { pid: true } }).hostname).toBe("web-0");
    expect(buildOciSpec({ ...input, host: { pid: true } }).linux.namespaces[0]).toEqual({
      type: "network",
      path: "/data/run/pods/u1/net",
    });
  });

  test("RLIMIT_NOFILE never exceeds the caller's hard limit, and caps at 1048576", () => {
    expect(buildOciSpec({ ...input, nofileHardLimit: 4096 }).process.rlimits).toEqual([
      { type: "RLIMIT_NOFILE", hard: 4096, soft: 4096 },
    ]);
    expect(buildOciSpec({ ...input, nofileHardLimit: 1 << 30 }).process.rlimits[0]?.hard).toBe(1048576);
  });

  test("volume binds keep their read-only flag", () => {
    const spec = buildOciSpec({
      ...input,
      mounts: [{ destination: "/cfg", source: "/data/pods/u1/volumes/cfg", readOnly: true }],
    });
    expect(spec.mounts.at(-1)).toEqual({
      destination: "/cfg",
      type: "bind",
      source: "/data/pods/u1/volumes/cfg",
      options: ["rbind", "rprivate", "ro"],
    });
  });

  test("cpu shares from requests the kubelet way", () => {
    expect(cpuShares(undefined)).toBe(2);
    expect(cpuShares(1)).toBe(2);
    expect(cpuShares(100)).toBe(102);
    expect(cpuShares(1000)).toBe(1024);
  });
});

describe("image config merged with the container spec", () => {
  const image = {
    Env: ["PATH=/usr/bin:/bin", "LANG=C", "A=image"],
    Entrypoint: ["/entry"],
    Cmd: ["serve", "--port=80"],
  };

  test("command replaces ENTRYPOINT and drops CMD; args replace CMD", () => {
    expect(containerArgv(image)).toEqual(["/entry", "serve", "--port=80"]);
    expect(containerArgv(image, ["sh", "-c"])).toEqual(["sh", "-c"]);
    expect(containerArgv(image, ["sh", "-c"], ["echo"])).toEqual(["sh", "-c", "echo"]);
    expect(containerArgv(image, undefined, ["other"])).toEqual(["/entry", "other"]);
    expect(containerArgv({ Cmd: ["sh"] })).toEqual(["sh"]);
    expect(containerArgv({})).toEqual([]);
  });

  test("pod env overrides image env by name, keeping image order; PATH from the image or the default", () => {
    expect(
      containerEnv(
        image,
        [
          { name: "A", value: "pod" },
          { name: "B", value: "2" },
        ],
        { HOSTNAME: "web-0" },
      ),
    ).toEqual(["PATH=/usr/bin:/bin", "LANG=C", "A=pod", "HOSTNAME=web-0", "B=2"]);
    expect(containerEnv({}, [])).toEqual([
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]);
  });

  test("capability add/drop with ALL", () => {
    expect(effectiveCaps([], ["ALL"])).toEqual([]);
    expect(effectiveCaps(["NET_ADMIN"], ["ALL"])).toEqual(["CAP_NET_ADMIN"]);
    expect(effectiveCaps(["ALL"], [])).toHaveLength(41);
  });
});
