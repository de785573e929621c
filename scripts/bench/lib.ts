/**
 * Shared bench helpers: statistics, a minik daemon on its own data dir and port, a plain API
 * client, a long-lived shell inside the hybrid-cgroup mount namespace for crun/podman peers,
 * memory accounting and clean-up. Bench only: never imported by minik itself.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { lockFile } from "../../runtime/net/node-lock.ts";
import { DEFAULT_BRIDGE } from "../../runtime/net/pod-network.ts";
import { freePort, removeDir } from "../../test/e2e/daemon.ts";

export { removeDir };
export const ROOT = join(import.meta.dir, "../..");
/** `MINIK_BENCH_BINARY` measures another build (e.g. a patched one) against the same peers. */
export const BINARY = process.env.MINIK_BENCH_BINARY ?? join(ROOT, "dist/minik");
export const NS = "bench";

// ---------- statistics ----------

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}
export const median = (s: number[]) => percentile(s, 50);
export const now = () => performance.now();

// ---------- results ----------

/** One row of the final table. Values are numbers (unit in `unit`) or a string such as "n/a (why)". */
export interface Row {
  case: string;
  metric: string;
  unit: string;
  minik: number | string;
  peer?: { name: string; value: number | string };
  target?: { op: "<=" | ">="; value: number; text: string };
  note?: string;
  /** Every sample behind the figure, printed under the table: none is dropped unseen. */
  samples?: { minik?: number[]; peer?: number[] };
}

export interface Bench {
  rows: Row[];
  log(msg: string): void;
  /** Registered clean-ups run in reverse order at the end, or on an interrupt. */
  defer(what: string, fn: () => unknown | Promise<unknown>): void;
}

// ---------- processes ----------

export async function run(
  cmd: string[],
  opts: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
) {
  const p = Bun.spawn(cmd, {
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
    stdin: opts.stdin ? new Blob([opts.stdin]) : "ignore",
  });
  const timer = opts.timeoutMs ? setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs) : undefined;
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 5,
): Promise<NonNullable<T>> {
  const end = now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

export function tempDir(prefix: string) {
  return mkdtempSync(join(tmpdir(), `minik-bench-${prefix}-`));
}

// ---------- minik daemon ----------

export interface Minik {
  url: string;
  dataDir: string;
  pid: number;
  token: string;
  /** Milliseconds from spawn to the first 200 from /readyz. */
  readyMs: number;
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<Response>;
  json<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
  output(): string;
  /** How many times the daemon has said it released idle memory (cmd/memory-trimmer.ts). */
  releases(): number;
}

/**
 * `minik up` on a free port. `MINIK_BENCH_PROFILE=DIR` runs the main daemon from source under
 * `bun --cpu-prof --cpu-prof-md` instead, writing its CPU profile into DIR when it stops.
 */
export async function startMinik(
  args: string[] = [],
  dataDir = tempDir("data"),
  profile?: string,
): Promise<Minik> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let out = "";
  let releases = 0;
  const t0 = now();
  const bin = profile
    ? [
        process.execPath,
        "--cpu-prof",
        "--cpu-prof-md",
        `--cpu-prof-dir=${profile}`,
        join(ROOT, "cmd/main.ts"),
      ]
    : [BINARY];
  const proc = Bun.spawn([...bin, "up", "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const dec = new TextDecoder();
      const reader = (stream as ReadableStream<Uint8Array>).getReader();
      let partial = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const text = dec.decode(value);
        out = (out + text).slice(-20_000);
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        releases += lines.filter((l) => l.includes("memory: released")).length;
      }
    })();
  }
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`minik up exited with code ${proc.exitCode}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok;
      },
      "minik /readyz",
      30_000,
      2,
    );
  } catch (e) {
    proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message}; output: ${out}`);
  }
  const readyMs = now() - t0;
  const token = readFileSync(join(dataDir, "token"), "utf8").trim();
  const headers = { authorization: `Bearer ${token}` };
  const api = (method: string, path: string, body?: unknown, contentType = "application/json") =>
    fetch(url + path, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": contentType },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  return {
    url,
    dataDir,
    pid: proc.pid,
    token,
    readyMs,
    api,
    async json(method, path, body, contentType) {
      const r = await api(method, path, body, contentType);
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
      return JSON.parse(text);
    },
    cli: (a) =>
      run([BINARY, ...a], { env: { MINIK_SERVER: url, MINIK_TOKEN: token, MINIK_DATA_DIR: dataDir } }),
    async stop() {
      proc.kill("SIGTERM");
      const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
      if (!done) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    },
    output: () => out,
    releases: () => releases,
  };
}

/**
 * One node minik per bridge (runtime/net/node-lock.ts): another engineer's `minik up` holding
 * minik0 makes ours exit, so wait until its lock is free (their e2e daemons are short-lived).
 */
export async function startNodeMinik(
  args: string[],
  dataDir: string,
  log: (m: string) => void,
  profile?: string,
) {
  const lock = lockFile(DEFAULT_BRIDGE);
  for (let attempt = 0; ; attempt++) {
    let told = false;
    await waitFor(
      () => {
        try {
          const holder = Number(readFileSync(lock, "utf8").trim());
          const busy = holder > 0 && alive(holder);
          if (busy && !told)
            log(`waiting for the minik up holding ${DEFAULT_BRIDGE} (pid ${holder}) to stop`);
          told ||= busy;
          return !busy;
        } catch {
          return true;
        }
      },
      `bridge ${DEFAULT_BRIDGE} to be free`,
      300_000,
      200,
    );
    try {
      return await startMinik(args, dataDir, profile);
    } catch (e) {
      if (attempt > 20 || !/in use by another minik up|exited with code/.test((e as Error).message)) throw e;
    }
  }
}

/**
 * A streaming watch; calls `onEvent` with each event and the time it arrived. Stop with `close()`.
 */
export function watch(
  m: Minik,
  path: string,
  onEvent: (ev: { type: string; object: any }, at: number) => void,
) {
  const ctl = new AbortController();
  const sep = path.includes("?") ? "&" : "?";
  const ready = (async () => {
    const r = await fetch(`${m.url}${path}${sep}watch=1&allowWatchBookmarks=false`, {
      headers: { authorization: `Bearer ${m.token}` },
      signal: ctl.signal,
    });
    if (!r.ok || !r.body) throw new Error(`watch ${path}: ${r.status}`);
    const reader = r.body.getReader();
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      try {
        for (;;) {
          const { value: chunk, done } = await reader.read();
          if (done) break;
          const at = now();
          buf += dec.decode(chunk, { stream: true });
          let i = buf.indexOf("\n");
          while (i >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) onEvent(JSON.parse(line), at);
            i = buf.indexOf("\n");
          }
        }
      } catch {}
    })();
  })();
  return { ready, close: () => ctl.abort() };
}

export const isRunning = (pod: any) =>
  pod?.status?.phase === "Running" &&
  (pod.status.containerStatuses ?? []).every((c: any) => c.state?.running);

/** Ensures the bench namespace exists. */
export async function ensureNamespace(m: Minik) {
  const r = await m.api("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: NS },
  });
  if (!r.ok && r.status !== 409) throw new Error(`creating namespace ${NS}: ${r.status} ${await r.text()}`);
}

/** Container pids minik started, from <data-dir>/containers/<id>/container.json. */
export function containerPids(dataDir: string): number[] {
  const dir = join(dataDir, "containers");
  if (!existsSync(dir)) return [];
  const pids: number[] = [];
  for (const id of readdirSync(dir)) {
    try {
      const c = JSON.parse(readFileSync(join(dir, id, "container.json"), "utf8"));
      if (typeof c.pid === "number" && c.pid > 0 && alive(c.pid)) pids.push(c.pid);
    } catch {}
  }
  return pids;
}

// ---------- memory ----------

export function alive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kB from /proc/<pid>/smaps_rollup (Pss) or status (VmRSS); 0 when the process is gone. */
export function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time in ms of a process itself and of its waited-for children (utime+stime, cutime+cstime). */
export function cpuMs(pid: number): { self: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    // fields 14-17 of stat(5), counted from after the comm field (which is field 2)
    return { self: (f[11]! + f[12]!) * 10, children: (f[13]! + f[14]!) * 10 };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** All processes as pid → ppid. */
export function processTable(): Map<number, number> {
  const t = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      t.set(Number(d), ppid);
    } catch {}
  }
  return t;
}

/** `roots` and all their descendants. */
export function descendants(roots: number[], table = processTable()): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const p = stack.pop()!;
    if (out.has(p)) continue;
    out.add(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
};

// ---------- the hybrid-cgroup shell for crun and podman peers ----------

export interface PeerShell {
  /** Runs a bash command line; returns its exit code, output and the time it took inside the shell (ms). */
  exec(cmd: string): Promise<{ code: number; out: string; ms: number }>;
  close(): Promise<void>;
}

/**
 * One long-lived `bash` in a private mount namespace without /sys/fs/cgroup/unified (crun 1.8 and
 * podman 4.3 refuse hybrid cgroups), so every peer command shares the namespace and its mounts and
 * the per-call time excludes the unshare itself (timed with $EPOCHREALTIME, no extra fork).
 */
export function peerShell(workDir: string, env: Record<string, string> = {}): PeerShell {
  const proc = Bun.spawn(["unshare", "-m", "--propagation", "private", "bash", "--noprofile", "--norc"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...env } as Record<string, string>,
  });
  proc.stdin.write("umount /sys/fs/cgroup/unified 2>/dev/null; true\n");
  const outFile = join(workDir, "peer-shell.out");
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const dec = new TextDecoder();
  let buf = "";
  let chain: Promise<unknown> = Promise.resolve();
  async function readMarker() {
    for (;;) {
      const i = buf.indexOf("\n__END__ ");
      const j = buf.indexOf("\n", i + 1);
      if (i >= 0 && j > i) {
        const line = buf.slice(i + 1, j);
        buf = buf.slice(j + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("peer shell exited");
      buf += dec.decode(value);
    }
  }
  return {
    exec(cmd) {
      const p = chain.then(async () => {
        buf = "";
        proc.stdin.write(
          `t0=$EPOCHREALTIME; { ${cmd} ; } >${outFile} 2>&1 </dev/null; rc=$?; t1=$EPOCHREALTIME; echo; echo "__END__ $rc $t0 $t1"\n`,
        );
        proc.stdin.flush();
        const [, rc, t0, t1] = (await readMarker()).split(" ");
        const out = existsSync(outFile) ? readFileSync(outFile, "utf8") : "";
        return { code: Number(rc), out, ms: (Number(t1) - Number(t0)) * 1000 };
      });
      chain = p.catch(() => {});
      return p;
    },
    async close() {
      proc.stdin.write("exit\n");
      proc.stdin.end();
      await Promise.race([proc.exited, Bun.sleep(5000)]);
      proc.kill("SIGKILL");
    },
  };
}

export const fmtMs = (v: number) =>
  Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)) : "n/a";
