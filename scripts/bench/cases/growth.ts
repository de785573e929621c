/**
 * Cost curves as the work grows, each point beside its peer from the same run:
 * replicas 10/50/100/200 → all Running (and daemon RSS with them) against as many sequential raw
 * `crun run -d`; ConfigMaps 1k → 10k → API latencies; watches 1 → 100 → watch delivery.
 * The points also go into a small SVG chart next to RESULTS.md (chart.ts).
 */
import { type Bench, containerPids, type Minik, median, NS, percentile, waitFor } from "../lib.ts";
import type { Peers } from "../peers.ts";
import {
  type ApiSamples,
  apiRows,
  deliveryRows,
  fillConfigMaps,
  measureApi,
  measureDelivery,
} from "./api-latency.ts";
import { settledMemory } from "./memory.ts";
import { rampMinik } from "./replica-ramp.ts";
import { minikTeardownMs } from "./teardown.ts";

export interface Curves {
  replicas: { n: number; minikMs: number; crunMs?: number; rssMb: number }[];
  objects: { n: number; getP99: number; listP99: number; createP99: number }[];
  watchers: { n: number; p50: number; p99: number }[];
}

export const REPLICA_POINTS = [10, 50, 100, 200];

export async function replicaCurve(b: Bench, m: Minik, peers: Peers): Promise<Curves["replicas"]> {
  const out: Curves["replicas"] = [];
  const pssKb = new Map<number, number>();
  for (const n of REPLICA_POINTS) {
    const name = `grow${n}`;
    const ramp = await rampMinik(m, name, n);
    const mem = await settledMemory(m, 3);
    pssKb.set(n, mem.addedPssKb);
    let crunMs: number | undefined;
    if (peers.crun) {
      const ids = Array.from({ length: n }, (_, i) => `pg${n}-${i}`);
      crunMs = await peers.crun.startBatch(ids);
      await peers.crun.remove(ids);
    }
    if (n === REPLICA_POINTS.at(-1)) {
      // The same daemon, the same history (every pod started so far, its events, the heap's
      // high-water mark of the largest ramp), only fewer pods running: what a running pod costs.
      await scaleDown(m, name, n, REPLICA_POINTS[1]!);
      const after = await settledMemory(m, 3);
      pssKb.set(-REPLICA_POINTS[1]!, after.addedPssKb);
      b.log(
        `growth: ${name} scaled down to ${REPLICA_POINTS[1]} replicas, daemon RSS ${(after.daemonRssKb / 1024).toFixed(1)} MB, PSS ${(after.addedPssKb / 1024).toFixed(1)} MB`,
      );
    }
    await minikTeardownMs(m, name, `app=${name}`);
    b.log(
      `growth: ${n} replicas → all Running ${ramp.ms.toFixed(0)} ms (crun ×${n}: ${crunMs?.toFixed(0) ?? "n/a"} ms), daemon RSS ${(mem.daemonRssKb / 1024).toFixed(1)} MB; phases ${JSON.stringify(ramp.phases, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`,
    );
    out.push({ n, minikMs: ramp.ms, crunMs, rssMb: mem.daemonRssKb / 1024 });
    b.rows.push({
      case: "growth: replicas",
      metric: `${n} replicas → all Running; daemon RSS with them ${(mem.daemonRssKb / 1024).toFixed(1)} MB`,
      unit: "ms",
      minik: ramp.ms,
      peer: { name: `${n}× crun run -d`, value: crunMs ?? peers.crunMissing ?? "n/a" },
    });
  }
  const [from, to] = [REPLICA_POINTS[1]!, REPLICA_POINTS.at(-1)!];
  b.rows.push({
    case: "memory",
    metric: `PSS minik adds per pod at scale ((with ${to} − the same Deployment scaled down to ${from})/${to - from}: same daemon, same history; GC forced, median of 3)`,
    unit: "MB",
    minik: (pssKb.get(to)! - pssKb.get(-from)!) / (to - from) / 1024,
    target: { op: "<=", value: 0.2, text: "≤ 0.2 MB" },
  });
  b.rows.push({
    case: "memory",
    metric: `PSS growth along the curve ((with ${to} − with ${from} of the ${from}-replica point)/${to - from}; includes the ${REPLICA_POINTS.slice(1).reduce((a, x) => a + x, 0) - from} pods started and deleted between, their Events, and the heap's high-water mark)`,
    unit: "MB",
    minik: (pssKb.get(to)! - pssKb.get(from)!) / (to - from) / 1024,
  });
  return out;
}

/** Scales a bench Deployment down and waits until only `replicas` pods and containers are left. */
async function scaleDown(m: Minik, name: string, from: number, replicas: number): Promise<void> {
  const pids = containerPids(m.dataDir).length;
  await m.json(
    "PATCH",
    `/apis/apps/v1/namespaces/${NS}/deployments/${name}`,
    { spec: { replicas } },
    "application/merge-patch+json",
  );
  await waitFor(
    async () =>
      (await m.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${name}`)).items.length ===
        replicas && containerPids(m.dataDir).length <= pids - (from - replicas),
    `${name} scaled down to ${replicas}`,
    120_000,
    50,
  );
  // the stopped pods' clean-up (network, mounts, cgroups) runs after the last container died
  await Bun.sleep(3000);
}

/**
 * Expects the API case's 1,000 ConfigMaps (cm-0 … cm-999) and its 1k figures; grows them to
 * 10,000 and measures again, then watch delivery with 1 and with 100 watches open.
 */
export async function objectCurves(
  b: Bench,
  m: Minik,
  at1k: ApiSamples,
): Promise<Pick<Curves, "objects" | "watchers">> {
  const total = 10_000;
  const t0 = performance.now();
  await fillConfigMaps(m, 1000, total - 200);
  b.log(
    `growth: ${total - 1000} more ConfigMaps stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const at10k = await measureApi(m, total, total - 200);
  apiRows(b, at10k, { get: 2, list: 50, create: 10 });
  const one = await measureDelivery(m, total, 1);
  const hundred = await measureDelivery(m, total, 100);
  deliveryRows(b, one, 1, at10k.count);
  deliveryRows(b, hundred, 100, at10k.count, 10);
  const point = (n: number, s: ApiSamples) => ({
    n,
    getP99: percentile(s.get, 99),
    listP99: percentile(s.list, 99),
    createP99: percentile(s.create, 99),
  });
  const w = (n: number, v: number[]) => ({ n, p50: median(v), p99: percentile(v, 99) });
  return { objects: [point(1000, at1k), point(total, at10k)], watchers: [w(1, one), w(100, hundred)] };
}
