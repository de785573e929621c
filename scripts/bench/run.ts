/**
 * `bun run bench`: sets up what it needs (dist/minik, podman and wrk from apt, the test registry),
 * runs every case in one run with minik's samples interleaved with its peers', prints the table of
 * medians/p99 and minik/peer ratios, and writes it into scripts/bench/RESULTS.md.
 *
 * Runs as root on the node it measures. Uses its own data dirs, port, pod/service ranges
 * (10.89.0.0/16, 10.97.0.0/16) and podman storage; cleans up after itself, also on Ctrl-C.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { DEFAULT_BRIDGE } from "../../runtime/net/pod-network.ts";
import { alive, dropLease, takeLease } from "../test-images/leases.ts";
import { apiLatencyCase } from "./cases/api-latency.ts";
import { type Curves, objectCurves, replicaCurve } from "./cases/growth.ts";
import { ingressPathCase } from "./cases/ingress-path.ts";
import { idleNodeMemory } from "./cases/memory.ts";
import { deletePods, podManifest, podStartCase } from "./cases/pod-start.ts";
import { rampCase } from "./cases/replica-ramp.ts";
import { seedFlowCase } from "./cases/seed-flow.ts";
import { servicePathCase } from "./cases/service-path.ts";
import { startupCase } from "./cases/startup.ts";
import { growthChart } from "./chart.ts";
import {
  type Bench,
  BINARY,
  containerPids,
  ensureNamespace,
  fmtMs,
  isRunning,
  NS,
  ROOT,
  type Row,
  removeDir,
  run,
  startNodeMinik,
  tempDir,
  waitFor,
} from "./lib.ts";
import { createPeers, HTTPD_IMAGE } from "./peers.ts";

const POD_CIDR = "10.89.0.0/16";
const SERVICE_CIDR = "10.97.0.0/16";
/** The bench minik's ingress listener (HTTP only; not the host's port 80). */
const INGRESS_PORT = 18780;
const TEST_IMAGES_ENV = "/tmp/minik-test-images/env.json";
const DAEMON_LOG = "/tmp/minik-bench-daemon.log";
const started = Date.now();

const cleanups: { what: string; fn: () => unknown }[] = [];
const bench: Bench = {
  rows: [],
  log: (msg) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}`),
  defer: (what, fn) => cleanups.push({ what, fn }),
};

async function cleanUp() {
  while (cleanups.length) {
    const c = cleanups.pop()!;
    try {
      await c.fn();
    } catch (e) {
      bench.log(`clean-up (${c.what}): ${(e as Error).message}`);
    }
  }
}
process.on("SIGINT", () => void cleanUp().then(() => process.exit(130)));
process.on("SIGTERM", () => void cleanUp().then(() => process.exit(143)));

async function setUp() {
  if (process.getuid?.() !== 0) throw new Error("the bench starts containers: run it as root");
  if (!existsSync(BINARY)) {
    bench.log("dist/minik missing: running scripts/setup");
    if ((await run(["bash", join(ROOT, "scripts/setup")])).code !== 0)
      throw new Error("scripts/setup failed");
  }
  // netavark named explicitly: without recommends apt may pick CNI plugins as podman's network stack;
  // netavark runs iptables (a missing one fails every `podman run` with "No such file or directory")
  // and `kube play` builds its pod's infra container on catatonit
  const missing = (needPeers ? ["podman", "wrk", "iptables", "catatonit"] : ["wrk"])
    .filter((p) => !Bun.which(p))
    .flatMap((p) => (p === "podman" ? [p, "netavark"] : [p]));
  if (missing.length) {
    bench.log(`installing ${missing.join(", ")} from apt`);
    const r = await run(["apt-get", "install", "-y", "--no-install-recommends", ...missing], {
      env: { DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.code !== 0) {
      await run(["apt-get", "update"]);
      await run(["apt-get", "install", "-y", "--no-install-recommends", ...missing], {
        env: { DEBIAN_FRONTEND: "noninteractive" },
      });
    }
  }
  const registriesUp = () => {
    try {
      return (JSON.parse(readFileSync(TEST_IMAGES_ENV, "utf8")).pids as number[]).every(alive);
    } catch {
      return false;
    }
  };
  // hold a lease so a parallel test run's `stop` leaves the registries up
  if (!registriesUp()) {
    bench.log("starting the test registry (scripts/test-images/start)");
    const r = await run(["bash", join(ROOT, "scripts/test-images/start")]);
    if (r.code !== 0 || !registriesUp()) throw new Error(`scripts/test-images/start failed: ${r.stderr}`);
    // we started them: stop drops our lease and stops them unless another live run holds one
    bench.defer("test registry", () => run(["bash", join(ROOT, "scripts/test-images/stop")]));
  } else {
    takeLease("/tmp/minik-test-images", process.pid);
    bench.defer("test registry lease", () => dropLease("/tmp/minik-test-images", process.pid));
  }
}

/** The cached httpd:1 layer dirs, top layer first (overlay's lowerdir order). */
function httpdLayerDirs(dataDir: string): string[] {
  const images = join(dataDir, "images");
  const file = readdirSync(join(images, "images")).find(
    (f) => decodeURIComponent(f) === `${HTTPD_IMAGE}.json`,
  );
  if (!file) throw new Error(`${HTTPD_IMAGE} not in minik's image store`);
  const meta = JSON.parse(readFileSync(join(images, "images", file), "utf8"));
  return (meta.layers as string[])
    .map((d) => join(images, "l", d.replace("sha256:", "").slice(0, 12)))
    .reverse();
}

/** `linux.resources` of the one container minik runs (the warm-up pod's), for the crun peer. */
function minikContainerResources(dataDir: string): Record<string, unknown> {
  const dir = join(dataDir, "containers");
  const ids = readdirSync(dir);
  if (ids.length !== 1)
    throw new Error(`expected the warm-up container alone in ${dir}, found ${ids.length}`);
  return JSON.parse(readFileSync(join(dir, ids[0]!, "config.json"), "utf8")).linux.resources;
}

async function versions() {
  const first = async (cmd: string[]) =>
    (await run(cmd).catch(() => ({ stdout: "n/a" }))).stdout.trim().split("\n")[0] ?? "n/a";
  return {
    minik: (await first([BINARY, "version"])).replace(/^Client Version:\s*/, ""),
    bun: Bun.version,
    crun: await first(["crun", "--version"]),
    podman: Bun.which("podman") ? await first(["podman", "--version"]) : "not installed",
    wrk: Bun.which("wrk")
      ? `wrk ${/\d+\.\d+\.\d+/.exec((await run(["wrk", "-v"])).stdout)?.[0] ?? "?"}`
      : "not installed",
    kernel: await first(["uname", "-r"]),
    os: (readFileSync("/etc/os-release", "utf8").match(/PRETTY_NAME="([^"]+)"/) ?? [])[1] ?? "?",
    cpu: `${cpus().length}× ${cpus()[0]?.model ?? "?"}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    commit: await first(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
    // the bench's own output (this table, the chart) left by an earlier run is not a code change
    dirty: (await run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])).stdout
      .split("\n")
      .filter((l) => l.trim() && !/scripts\/bench\/(RESULTS\.md|growth\.svg)$/.test(l)).length
      ? "dirty"
      : "",
  };
}

/** `bun run bench --only ramp,seed` runs a subset (for profiling); the default is every case. */
const only = (() => {
  const i = process.argv.indexOf("--only");
  return i > 0 ? new Set(process.argv[i + 1]?.split(",")) : undefined;
})();
/** podman and raw crun are compared in these cases only; `--only service,ingress` needs neither. */
const needPeers = !only || ["podstart", "ramp", "seed", "growth"].some((c) => only.has(c));
const want = (name: string) => {
  const yes = !only || only.has(name);
  if (yes && name !== "startup") bench.log(`case: ${name}`);
  return yes;
};

/** The node daemons' flags (the bench's own pod and service ranges, the mirror, the ingress port). */
const NODE_ARGS = [
  "--pod-cidr",
  POD_CIDR,
  "--service-cidr",
  SERVICE_CIDR,
  "--registry-mirror",
  "docker.io=http://127.0.0.1:5100",
  "--ingress-http",
  `127.0.0.1:${INGRESS_PORT}`,
  "--ingress-https",
  "off",
  // the growth curve goes to 200 replicas; the kubelet's default takes 110
  "--max-pods",
  "250",
];

const mbText = (kb: number | undefined) => (kb === undefined ? "—" : (kb / 1024).toFixed(1));

async function main() {
  await setUp();
  const info = await versions();
  const load0 = loadavg();
  bench.log(`minik ${info.minik}; load average ${load0.map((v) => v.toFixed(1)).join(" ")}`);

  if (want("startup")) await startupCase(bench, Number.NaN); // fullStart filled in below
  const startupRows = bench.rows.splice(0);

  // the memory of a quiet node, from a daemon of its own (the ramp case reports it)
  const fresh =
    !only || only.has("ramp")
      ? await idleNodeMemory(() => startNodeMinik(NODE_ARGS, tempDir("idle"), bench.log))
      : undefined;
  const dataDir = tempDir("data");
  bench.defer("data dir", () => removeDir(dataDir));
  const workDir = tempDir("work");
  bench.defer("work dir", () => removeDir(workDir));
  const m = await startNodeMinik(
    [
      ...NODE_ARGS,
      // every memory sample of this daemon finds it warm: no release between two of them
      "--idle-memory",
      "keep",
    ],
    dataDir,
    bench.log,
    process.env.MINIK_BENCH_PROFILE,
  );
  bench.defer(`bench route and address on ${DEFAULT_BRIDGE}`, async () => {
    await run(["ip", "addr", "del", `${POD_CIDR.replace("0/16", "1")}/16`, "dev", DEFAULT_BRIDGE]);
    await run(["ip", "route", "del", SERVICE_CIDR, "dev", DEFAULT_BRIDGE]);
  });
  bench.defer("minik daemon", async () => {
    await m.stop();
    writeFileSync(DAEMON_LOG, m.output()); // for profiling: what the daemon said (last 20 kB)
    for (const pid of containerPids(dataDir)) process.kill(pid, "SIGKILL"); // anything the daemon left
  });
  bench.defer("bench pods", async () => {
    const deps = await m.json("GET", `/apis/apps/v1/namespaces/${NS}/deployments`);
    for (const d of deps.items)
      await m.api("DELETE", `/apis/apps/v1/namespaces/${NS}/deployments/${d.metadata.name}`, {
        propagationPolicy: "Background",
      });
    await deletePods(m, "");
  });
  if (startupRows[0]) startupRows[0].minik = m.readyMs;
  bench.rows.push(...startupRows);
  bench.log(`minik up (network + crun) → /readyz in ${m.readyMs.toFixed(0)} ms`);

  // warm-up: the image into the cache, first-pod costs paid
  await ensureNamespace(m);
  await m.json("POST", `/api/v1/namespaces/${NS}/pods`, podManifest("warm-up", { bench: "warm-up" }));
  await waitFor(
    async () => isRunning(await m.json("GET", `/api/v1/namespaces/${NS}/pods/warm-up`)),
    "warm-up pod Running",
    60_000,
    20,
  );
  const resources = minikContainerResources(dataDir);
  await deletePods(m, "bench=warm-up");

  // podman and raw crun, only for the cases that compare with them
  const peers = needPeers
    ? await createPeers(workDir, httpdLayerDirs(dataDir), bench.log, resources)
    : undefined;
  if (peers) {
    bench.defer("peers", async () => {
      await peers.crun?.removeAll();
      await peers.podman?.removeAll();
      await peers.close();
    });
    if (peers.crun) {
      await peers.crun.start("pb-warm");
      await peers.crun.remove(["pb-warm"]);
    }
  }

  if (fresh)
    bench.log(
      `idle node daemon (no objects, no pods): RSS ${mbText(fresh?.justStarted.daemonRssKb)} MB just started, ${mbText(fresh?.quiet.daemonRssKb)} MB quiet`,
    );

  const at1k = want("api") ? await apiLatencyCase(bench, m) : undefined;
  // these imply needPeers
  if (want("podstart")) await podStartCase(bench, m, peers!);
  if (want("ramp")) await rampCase(bench, m, peers!, fresh!);
  if (want("seed")) await seedFlowCase(bench, m, peers!, workDir);
  if (want("service")) await servicePathCase(bench, m);
  if (want("ingress")) await ingressPathCase(bench, m, INGRESS_PORT);
  let curves: Partial<Curves> | undefined;
  if (want("growth")) {
    const replicas = await replicaCurve(bench, m, peers!);
    const api = await objectCurves(bench, m, at1k ?? (await apiLatencyCase(bench, m)));
    curves = { replicas, ...api };
  }

  const load1 = loadavg();
  await cleanUp();
  const elapsed = (Date.now() - started) / 1000;
  const table = renderTable(bench.rows);
  console.log(table);
  if (curves) {
    const caption = `bun run bench, commit ${info.commit}${info.dirty ? " (dirty)" : ""}, ${new Date().toISOString().slice(0, 16)}Z, load ${load0[0]?.toFixed(1)}–${load1[0]?.toFixed(1)}`;
    writeFileSync(join(import.meta.dir, "growth.svg"), growthChart(curves, caption));
  }
  if (!only) writeResults(table, renderSamples(bench.rows), info, load0, load1, elapsed);
  bench.log(`done in ${elapsed.toFixed(0)} s${only ? "" : "; table written to scripts/bench/RESULTS.md"}`);
}

// ---------- the table ----------

function fmt(v: number | string | undefined, unit: string): string {
  if (v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "n/a";
  if (unit === "ms") return `${fmtMs(v)} ms`;
  if (unit === "MB") return `${v.toFixed(v < 10 ? 2 : 1)} MB`;
  return `${v.toFixed(0)} ${unit}`;
}

function renderTable(rows: Row[]): string {
  const out = [
    "| case | metric | minik | peer | minik/peer | target | met |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const peerVal = r.peer?.value;
    const ratio =
      typeof r.minik === "number" && typeof peerVal === "number" && peerVal > 0
        ? r.minik / peerVal
        : undefined;
    let met = "";
    if (r.target && typeof r.minik === "number") {
      const onRatio = r.target.text.includes("ratio");
      const v = onRatio ? ratio : r.minik;
      if (v !== undefined && Number.isFinite(v))
        met = (r.target.op === "<=" ? v <= r.target.value : v >= r.target.value) ? "yes" : "**no**";
    }
    out.push(
      `| ${r.case} | ${r.metric}${r.note ? ` (${r.note})` : ""} | ${fmt(r.minik, r.unit)} | ${r.peer ? `${r.peer.name}: ${fmt(r.peer.value, r.unit)}` : "—"} | ${ratio === undefined ? "—" : `${ratio.toFixed(2)}×`} | ${r.target?.text ?? ""} | ${met} |`,
    );
  }
  return out.join("\n");
}

/** Every sample behind the rows that carry them, so no figure hides a dropped or odd sample. */
function renderSamples(rows: Row[]): string {
  const out: string[] = [];
  const list = (v: number[]) => v.map((x) => fmtMs(x)).join(" ");
  for (const r of rows) {
    if (!r.samples) continue;
    const parts = [
      r.samples.minik ? `minik: ${list(r.samples.minik)}` : "",
      r.samples.peer ? `${r.peer?.name ?? "peer"}: ${list(r.samples.peer)}` : "",
    ].filter(Boolean);
    out.push(`- ${r.case}, ${r.metric} (${r.unit}) — ${parts.join("; ")}`);
  }
  return out.join("\n");
}

function writeResults(
  table: string,
  samples: string,
  info: Record<string, string>,
  load0: number[],
  load1: number[],
  elapsed: number,
) {
  const file = join(import.meta.dir, "RESULTS.md");
  const begin = "<!-- bench:begin (written by `bun run bench`) -->";
  const end = "<!-- bench:end -->";
  const generated = [
    begin,
    `Run ${new Date().toISOString()} (${elapsed.toFixed(0)} s), commit ${info.commit}${info.dirty ? " with uncommitted changes (dirty tree)" : " (clean tree)"}.`,
    "",
    `Machine: ${info.os}, kernel ${info.kernel}, ${info.cpu}, ${info.memory}. Load average ${load0.map((v) => v.toFixed(1)).join(" ")} at the start, ${load1.map((v) => v.toFixed(1)).join(" ")} at the end.`,
    "",
    `Versions: minik ${info.minik}; Bun ${info.bun}; ${info.crun}; ${info.podman}; ${info.wrk}.`,
    "",
    table,
    "",
    "![growth curves](growth.svg)",
    "",
    "<details><summary>Every sample (in run order)</summary>",
    "",
    samples,
    "",
    "</details>",
    end,
  ].join("\n");
  const old = existsSync(file) ? readFileSync(file, "utf8") : `# Bench results\n\n${begin}\n${end}\n`;
  const i = old.indexOf(begin);
  const j = old.indexOf(end);
  writeFileSync(
    file,
    i >= 0 && j > i ? old.slice(0, i) + generated + old.slice(j + end.length) : `${old}\n${generated}\n`,
  );
}

try {
  await main();
} catch (e) {
  bench.log(`failed: ${(e as Error).stack ?? e}`);
  await cleanUp();
  process.exit(1);
}
