import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { defaultDataDir, paths } from "../../core/config.ts";
import { ApiError } from "../../core/errors.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";

/**
 * `minik reset`: retires minik from this machine. Refuses while a `minik up` answers for the data
 * dir; then removes every container and pod sandbox the crun runtime has records of (through the
 * runtime itself, so crun, cgroups, rootfs mounts and volumes go the normal way), every pod
 * namespace and veth, the bridge and the nft table, unmounts whatever is left under the data dir,
 * and with --all removes the data dir. Safe to run twice.
 */
export interface ResetOptions {
  dataDir?: string;
  all?: boolean;
}

export async function reset(opts: ResetOptions): Promise<void> {
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  if (process.getuid?.() !== 0)
    throw new ApiError(
      "BadRequest",
      "minik reset needs root (it removes containers, namespaces and nftables rules)",
    );
  await refuseWhileRunning(dataDir);
  const say = (m: string) => console.log(m);
  if (existsSync(dataDir)) await removeContainers(dataDir, say);

  const { removeNodeNetwork } = await import("../../runtime/net/node-network.ts");
  const before = networkTraces();
  await removeNodeNetwork({ dataDir });
  const after = networkTraces();
  for (const t of before) if (!after.includes(t)) say(`removed ${t}`);
  for (const t of after) say(`could not remove ${t}`);

  if (existsSync(dataDir)) {
    await stopCrunHolder(dataDir, say);
    for (const m of unmountBelow(dataDir)) say(`unmounted ${m}`);
    if (opts.all) {
      rmSync(dataDir, { recursive: true, force: true });
      say(`removed data directory ${dataDir}`);
    }
  }
  const left = !existsSync(dataDir) ? "not there" : "kept; --all removes it";
  say(`minik reset: done (data dir ${dataDir} ${opts.all ? "removed" : left})`);
}

/**
 * A `minik up` that still answers would recreate everything at once: tell the user to stop it.
 * The bridge, nft table and pod namespaces are machine-wide, so any other `minik up` on this
 * machine (another data dir) would lose its network too: refuse for that as well.
 */
async function refuseWhileRunning(dataDir: string): Promise<void> {
  const file = paths.serverUrl(dataDir);
  if (existsSync(file)) {
    const url = readFileSync(file, "utf8").trim();
    const answer = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (answer) {
      throw new ApiError(
        "BadRequest",
        `minik is running on ${url} with data dir ${dataDir}: stop that \`minik up\` first (Ctrl-C or kill its process), then run minik reset again`,
      );
    }
  }
  const others = runningMinikUps().map((p) => `pid ${p.pid}: ${p.argv.join(" ")}`);
  if (others.length) {
    throw new ApiError(
      "BadRequest",
      `another minik up is running on this machine (${others.join("; ")}); it shares the bridge, nft table and pod namespaces that reset removes: stop it first, then run minik reset again`,
    );
  }
}

/** Every live `minik up` process but this one (the compiled binary or `bun cmd/main.ts up`). */
export function runningMinikUps(): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue;
    }
    const up = argv.indexOf("up");
    if (up > 0 && argv.slice(0, up).some((a) => /(^|\/)minik$|cmd\/main\.ts$/.test(a)))
      out.push({ pid: Number(entry), argv });
  }
  return out;
}

/** Every sandbox and container in the runtime's records, removed through the runtime. */
async function removeContainers(dataDir: string, say: (m: string) => void): Promise<void> {
  const { createCrunRuntime } = await import("../../runtime/crun/crun-runtime.ts");
  const { dataLayout } = await import("../../runtime/crun/data-layout.ts");
  const { readRecords } = await import("../../runtime/crun/runtime-records.ts");
  type Sandbox = import("../../runtime/crun/runtime-records.ts").SandboxRecord;
  // SandboxStatus has no pod name: the records say which pod each sandbox was
  const podNames = new Map(
    readRecords<Sandbox>(dataLayout(dataDir).podsDir, "sandbox.json").map((r) => [
      r.podUid,
      `${r.namespace}/${r.name}`,
    ]),
  );
  const noImages = async (): Promise<never> => {
    throw new RuntimeError("ImagePullError", "minik reset pulls no images");
  };
  const runtime = createCrunRuntime({
    dataDir,
    images: { pull: noImages, resolve: () => undefined },
    log: () => {},
  });
  await runtime.start();
  try {
    const containers = await runtime.listContainers();
    for (const sb of await runtime.listPodSandboxes()) {
      const names = containers.filter((c) => c.podUid === sb.podUid).map((c) => c.name);
      await runtime.removePodSandbox(sb.podUid);
      say(
        `removed pod ${podNames.get(sb.podUid) ?? sb.podUid}${names.length ? ` (containers ${names.join(", ")})` : ""}`,
      );
    }
    // containers whose pod record is gone (a crash between the two records)
    for (const c of await runtime.listContainers()) {
      await runtime.removeContainer(c.id);
      say(`removed container ${c.name} (${c.id})`);
    }
  } finally {
    await runtime.close();
  }
}

/**
 * The crun mount-namespace holder of a hybrid-cgroup host (runtime/crun/crun-namespace.ts) retires
 * by itself once its pid file is gone, but only within 10 s: stop it now so nothing of minik runs
 * after reset. releaseCrunNamespace then unmounts the shared run dir.
 */
async function stopCrunHolder(dataDir: string, say: (m: string) => void): Promise<void> {
  const { dataLayout } = await import("../../runtime/crun/data-layout.ts");
  const { releaseCrunNamespace } = await import("../../runtime/crun/crun-namespace.ts");
  const runDir = dataLayout(dataDir).runDir;
  const pidFile = `${runDir}/mntns-holder.pid`;
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("\0minik-crun-mntns\0")) {
        process.kill(pid, "SIGKILL");
        say(`stopped crun's mount namespace holder (pid ${pid})`);
      }
    } catch {}
  }
  if (mountsBelow(dataDir).includes(runDir)) {
    releaseCrunNamespace(runDir);
    say(`unmounted ${runDir}`);
  }
}

function mountsBelow(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Lazily unmounts every mount at or below `dir`, deepest first; returns what it unmounted. */
function unmountBelow(dir: string): string[] {
  const done: string[] = [];
  // a path may be mounted more than once (stacked): repeat until nothing is left
  for (let round = 0; round < 5; round++) {
    const mounts = [...new Set(mountsBelow(dir))].sort((a, b) => b.length - a.length);
    if (!mounts.length) break;
    for (const m of mounts) {
      if (Bun.spawnSync(["umount", "-l", m]).exitCode === 0) done.push(m);
    }
  }
  return [...new Set(done)];
}

/** Network objects minik makes, as printable names: pod namespaces, veths, bridge, nft table. */
function networkTraces(): string[] {
  const out: string[] = [];
  try {
    for (const n of readdirSync("/run/netns")) if (n.startsWith("minik-")) out.push(`network namespace ${n}`);
  } catch {}
  for (const l of readdirSync("/sys/class/net")) {
    if (l.startsWith("vmk")) out.push(`veth ${l}`);
    if (l === "minik0") out.push(`bridge ${l} (and its sysctls)`);
  }
  if (Bun.spawnSync(["nft", "list", "table", "ip", "minik"]).exitCode === 0) out.push("nft table ip minik");
  return out;
}
