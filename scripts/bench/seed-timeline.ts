/**
 * `bun scripts/bench/seed-timeline.ts [rounds]`: where the seed flow's time goes, seen from outside
 * the daemon. Starts a node minik (as the bench does), then per round: spawns `minik apply -f
 * examples/nginx-deployment.yaml`, and stamps (ms after the spawn) the CLI's exit, the Deployment,
 * ReplicaSet and each pod's first watch event, each pod's binding, podIP, Running, and its first
 * HTTP answer (each pod IP polled every millisecond once known). Run as root, under the lock:
 * `flock /tmp/minik-root-tests.lock bun scripts/bench/seed-timeline.ts 5`.
 */
import { join } from "node:path";
import { DEFAULT_BRIDGE } from "../../runtime/net/pod-network.ts";
import { answers, removeSeed } from "./cases/seed-flow.ts";
import {
  BINARY,
  ensureNamespace,
  isRunning,
  type Minik,
  median,
  NS,
  now,
  ROOT,
  removeDir,
  run,
  startNodeMinik,
  tempDir,
  waitFor,
  watch,
} from "./lib.ts";

const SEED = join(ROOT, "examples/nginx-deployment.yaml");
const rounds = Number(process.argv[2] ?? 5);

async function round(m: Minik): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  const mark = (what: string, at: number) => {
    if (!marks.has(what)) marks.set(what, at);
  };
  const pods = new Map<string, string>(); // name → short label p0/p1
  const label = (name: string) => {
    if (!pods.has(name)) pods.set(name, `pod${pods.size}`);
    return pods.get(name)!;
  };
  const ips = new Set<string>();
  const ws = [
    watch(m, `/apis/apps/v1/namespaces/${NS}/deployments`, (ev, at) => mark(`deployment ${ev.type}`, at)),
    watch(m, `/apis/apps/v1/namespaces/${NS}/replicasets`, (ev, at) => mark(`replicaset ${ev.type}`, at)),
    watch(m, `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dnginx-server`, (ev, at) => {
      const p = label(ev.object.metadata.name);
      mark(`${p} created`, at);
      if (ev.object.spec?.nodeName) mark(`${p} bound`, at);
      if (ev.object.status?.podIP) {
        mark(`${p} podIP`, at);
        ips.add(ev.object.status.podIP);
      }
      if (isRunning(ev.object)) mark(`${p} Running`, at);
    }),
  ];
  await Promise.all(ws.map((w) => w.ready));
  const t0 = now();
  const cli = run([BINARY, "apply", "-n", NS, "-f", SEED], {
    env: { MINIK_SERVER: m.url, MINIK_TOKEN: m.token, MINIK_DATA_DIR: m.dataDir },
  }).then((r) => {
    mark("cli exited", now());
    if (r.code !== 0) throw new Error(`minik apply: ${r.stderr}`);
  });
  const answered = new Set<string>();
  await waitFor(
    async () => {
      await Promise.all(
        [...ips]
          .filter((ip) => !answered.has(ip))
          .map(async (ip) => {
            if (await answers(ip)) {
              answered.add(ip);
              mark(`http ${ip}`, now());
            }
          }),
      );
      return answered.size >= 2;
    },
    "both pods answering",
    20_000,
    1,
  );
  mark("both answer", now());
  await cli;
  for (const w of ws) w.close();
  const rel = new Map([...marks].map(([k, v]) => [k, v - t0] as const));
  await removeSeed(m);
  return rel;
}

async function main() {
  const dataDir = tempDir("data");
  const m = await startNodeMinik(
    [
      "--pod-cidr",
      "10.89.0.0/16",
      "--service-cidr",
      "10.97.0.0/16",
      "--registry-mirror",
      "docker.io=http://127.0.0.1:5100",
      "--ingress-http",
      "off",
      "--ingress-https",
      "off",
    ],
    dataDir,
    console.error,
  );
  try {
    await ensureNamespace(m);
    await round(m); // warm-up: the image into the cache
    const all: Map<string, number>[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await round(m);
      all.push(r);
      console.log(
        [...r]
          .sort((a, b) => a[1] - b[1])
          .map(([k, v]) => `${v.toFixed(1).padStart(6)} ${k}`)
          .join("\n"),
      );
      console.log("---");
    }
    const keys = [...new Set(all.flatMap((r) => [...r.keys()].filter((k) => !k.startsWith("http "))))];
    const med = keys.map((k) => [k, median(all.map((r) => r.get(k) ?? Number.NaN))] as const);
    console.log("medians:");
    for (const [k, v] of med.sort((a, b) => a[1] - b[1])) console.log(`${v.toFixed(1).padStart(6)} ${k}`);
  } finally {
    await m.stop();
    removeDir(dataDir);
    // what the bench's clean-up also removes: the bench ranges' address and route on the bridge
    await run(["ip", "addr", "del", "10.89.0.1/16", "dev", DEFAULT_BRIDGE]);
    await run(["ip", "route", "del", "10.97.0.0/16", "dev", DEFAULT_BRIDGE]);
  }
}

await main();
