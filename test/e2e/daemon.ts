import { mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runningMinikUps } from "../../runtime/host/minik-processes.ts";
import { waitFor } from "../support/env.ts";
import { testRegistriesYaml } from "../support/registry.ts";

export const BINARY = join(import.meta.dir, "../../dist/minik");

/** A free loopback port, found by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** A fresh data dir whose registries.yaml serves docker.io (and the test images) from the local test registry. */
export function nodeDataDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `minik-e2e-${name}-`));
  writeFileSync(join(dir, "registries.yaml"), testRegistriesYaml());
  return dir;
}

export interface Daemon {
  url: string;
  dataDir: string;
  env: Record<string, string>;
  proc: ReturnType<typeof Bun.spawn>;
  /** Runs the minik CLI against this daemon. */
  minik(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `minik apply -f` of a manifest written to <data-dir>/<name>.yaml; returns the file. */
  apply(name: string, yaml: string): Promise<string>;
  /** `minik get … -o json`, parsed. */
  getJson<T = any>(args: string[]): Promise<T>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  output(): string;
}

/** Hands everything a process writes to stdout and stderr to `onText` as it comes. */
export function collectOutput(proc: ReturnType<typeof Bun.spawn>, onText: (text: string) => void) {
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const reader = (stream as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        onText(new TextDecoder().decode(value));
      }
    })();
  }
}

/** Starts the compiled binary's `minik up` on a free port (or `port`) with its own data dir. */
export async function startDaemon(
  extraArgs: string[] = [],
  dataDir?: string,
  listenPort?: number,
): Promise<Daemon> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "minik-e2e-"));
  const port = listenPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let out = "";
  const proc = Bun.spawn(
    [BINARY, "up", "--listen", `127.0.0.1:${port}`, "--data-dir", dir, "--debug", ...extraArgs],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  collectOutput(proc, (text) => {
    out += text;
  });
  const env = { ...process.env, MINIK_SERVER: url, MINIK_DATA_DIR: dir } as Record<string, string>;
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, {
      timeoutMs: 20_000,
      what: "minik up",
    });
  } catch {
    // say where it is stuck: its state and the processes it is waiting for
    const ps = Bun.spawnSync([
      "ps",
      "-o",
      "pid,stat,wchan:20,args",
      "--ppid",
      String(proc.pid),
      "-p",
      String(proc.pid),
    ]);
    proc.kill("SIGKILL");
    // a data dir made here has no other owner to remove it
    if (!dataDir) {
      await proc.exited;
      removeDir(dir);
    }
    throw new Error(
      `minik up on ${url} not ready after 20 s (exit code ${proc.exitCode ?? "none, still running"}); output so far: ${out}\n${ps.stdout}`,
    );
  }
  const daemon: Daemon = {
    url,
    dataDir: dir,
    env,
    proc,
    output: () => out,
    async minik(args, stdin) {
      const p = Bun.spawn([BINARY, ...args], {
        env,
        stdout: "pipe",
        stderr: "pipe",
        stdin: stdin ? new Blob([stdin]) : "ignore",
      });
      const [stdout, stderr, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      return { code, stdout, stderr };
    },
    async apply(name, yaml) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, yaml);
      const r = await daemon.minik(["apply", "-f", file]);
      if (r.code !== 0) throw new Error(`minik apply -f ${file} failed: ${r.stderr}`);
      return file;
    },
    async getJson(args) {
      const r = await daemon.minik(["get", ...args, "-o", "json"]);
      if (r.code !== 0) throw new Error(`minik get ${args.join(" ")} failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      await proc.exited;
    },
  };
  return daemon;
}

/** Removes a data dir, first lazily unmounting what minik mounted inside it (run/, rootfs). */
export function removeDir(dir: string | undefined) {
  if (!dir) return;
  const uids = podUids(dir);
  killLeftoverContainers(uids);
  removeLeftoverCgroups(uids);
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Containers outlive `minik up` by design, so a pod force-deleted just before the daemon stopped
 * (the agent had not swept it yet) would keep running — a busy loop of one test would then starve
 * the next. Kills what still runs in the cgroups of this data dir's pods (`…/minik/<pod-uid>/…`).
 */
function killLeftoverContainers(uids: string[]) {
  if (!uids.length) return;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cgroup: string;
    try {
      cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    } catch {
      continue;
    }
    if (uids.some((uid) => cgroup.includes(`/minik/${uid}/`))) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
  }
}

/** The uids of the pods a data dir has records of. */
function podUids(dir: string): string[] {
  try {
    return readdirSync(join(dir, "pods"));
  } catch {
    return [];
  }
}

/**
 * The cgroups of those pods (`…/minik/<uid>/<container>` in every hierarchy), which a daemon
 * stopped with pods still there leaves behind: empty directories, but kernel memory and clutter
 * that piles up over test runs. Killed processes leave their cgroup within moments; a cgroup
 * still busy after the retries is left.
 */
function removeLeftoverCgroups(uids: string[]) {
  if (!uids.length) return;
  const wanted = new Set(uids);
  const found: string[] = [];
  const walk = (path: string, depth: number) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = join(path, e.name);
      if (e.name === "minik") {
        for (const uid of readdirSync(child).filter((u) => wanted.has(u))) found.push(join(child, uid));
      } else if (depth < 4) walk(child, depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  for (const pod of found) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        removeCgroupTree(pod);
        break;
      } catch {
        Bun.sleepSync(20);
      }
    }
  }
}

/** rmdir of a cgroup and its children, deepest first (a cgroup's files go with its directory). */
function removeCgroupTree(path: string) {
  for (const c of readdirSync(path, { withFileTypes: true }))
    if (c.isDirectory()) removeCgroupTree(join(path, c.name));
  rmdirSync(path);
}

/** Lazily unmounts every mount at or below `dir`, deepest first. */
export function unmountUnder(dir: string) {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
}

/**
 * `minik up` processes on this machine other than ours that run containers (they share the
 * bridge, nft table and DNS port); a control plane started with `--runtime none` touches none of them.
 */
const otherMinikUps = (ours?: number) =>
  runningMinikUps().filter((p) => p.pid !== ours && !/--runtime[= ]none\b/.test(p.argv.join(" ")));

/**
 * Only one minik may own the bridge, the nft table and 10.88.0.1:53: wait while another engineer's
 * test runs one (a second daemon would rewrite our Services' rules), and retry if one starts first.
 */
export async function startExclusive(dataDir: string, extraArgs: string[] = []): Promise<Daemon> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    await waitFor(() => otherMinikUps().length === 0, {
      timeoutMs: Math.max(1000, deadline - Date.now()),
      intervalMs: 500,
      what: "other minik up processes on this machine to stop",
    });
    try {
      const d = await startDaemon(extraArgs, dataDir);
      if (otherMinikUps(d.proc.pid).length === 0) return d;
      await d.stop(); // lost a race with another test's daemon
    } catch (e) {
      const busy = /EADDRINUSE|address already in use|in use/i.test((e as Error).message);
      if (!busy || Date.now() > deadline) throw e;
    }
  }
}

/** The real kubectl's argv against the daemon of `dataDir` (its kubeconfig, its own cache). */
export function kubectlArgv(dataDir: string, args: string[]): string[] {
  return [
    "kubectl",
    "--kubeconfig",
    join(dataDir, "kubeconfig"),
    "--cache-dir",
    join(dataDir, "kcache"),
    ...args,
  ];
}

/** Runs the real kubectl against the daemon of `dataDir` to the end, with `stdin` if given. */
export async function kubectl(
  dataDir: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(kubectlArgv(dataDir, args), {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { stdout, stderr, code };
}
