/**
 * API latency with 1,000 objects stored (ConfigMaps in the bench namespace): sequential get, list,
 * create and merge-patch over one keep-alive client; watch delivery = PATCH sent → its MODIFIED
 * event read from an open watch (so it includes the write itself: an upper bound).
 */
import { type Bench, type Minik, NS, now, percentile, waitFor, watch } from "../lib.ts";

const cm = (name: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { bench: "api" } },
  data: { k: name },
});
const base = `/api/v1/namespaces/${NS}/configmaps`;

async function timed(m: Minik, method: string, path: string, body?: unknown, ct?: string) {
  const t0 = now();
  const r = await m.api(method, path, body, ct);
  await r.arrayBuffer();
  const ms = now() - t0;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status}`);
  return ms;
}

export interface ApiSamples {
  count: number;
  get: number[];
  list: number[];
  create: number[];
  patch: number[];
}

/** Stores ConfigMaps `cm-<from>` … `cm-<to - 1>`, 8 requests in flight (not timed). */
export async function fillConfigMaps(m: Minik, from: number, to: number) {
  for (let i = from; i < to; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, to - i) }, (_, j) => m.json("POST", base, cm(`cm-${i + j}`))),
    );
  }
}

/**
 * Sequential latencies with `total` ConfigMaps stored, the last 200 of them created timed (names
 * from `createFrom` on), then gets, lists of all of them, and merge patches.
 */
export async function measureApi(m: Minik, total: number, createFrom: number): Promise<ApiSamples> {
  const create: number[] = [];
  for (let i = createFrom; i < createFrom + 200; i++)
    create.push(await timed(m, "POST", base, cm(`cm-${i}`)));
  const get: number[] = [];
  for (let i = 0; i < 500; i++) get.push(await timed(m, "GET", `${base}/cm-${(i * 7919) % total}`));
  const list: number[] = [];
  for (let i = 0; i < 30; i++) list.push(await timed(m, "GET", base));
  const patch: number[] = [];
  for (let i = 0; i < 200; i++)
    patch.push(
      await timed(
        m,
        "PATCH",
        `${base}/cm-${(i * 31) % total}`,
        { data: { k: `p${i}` } },
        "application/merge-patch+json",
      ),
    );
  const count = (await m.json("GET", `${base}?limit=1`)).metadata.remainingItemCount;
  return { count: typeof count === "number" ? count + 1 : total, get, list, create, patch };
}

/**
 * Watch delivery with `watchers` watches open on the ConfigMaps: each of 100 PATCHes → the moment
 * its MODIFIED event reached each watch; every (patch, watch) pair is one sample.
 */
let deliveryRound = 0;

export async function measureDelivery(m: Minik, total: number, watchers: number): Promise<number[]> {
  // a value no earlier round wrote: a patch that changes nothing sends no event
  const tag = `w${++deliveryRound}`;
  const rv = (await m.json("GET", `${base}?limit=1`)).metadata.resourceVersion;
  const arrived = Array.from({ length: watchers }, () => new Map<string, number>());
  const ws = arrived.map((seen) =>
    watch(m, `${base}?resourceVersion=${rv}`, (ev, at) => {
      if (ev.type === "MODIFIED") seen.set(`${ev.object.metadata.name}/${ev.object.data?.k}`, at);
    }),
  );
  const delivery: number[] = [];
  try {
    await Promise.all(ws.map((w) => w.ready));
    for (let i = 0; i < 100; i++) {
      const name = `cm-${(i * 13) % total}`;
      const key = `${name}/${tag}-${i}`;
      const t0 = now();
      await m.json(
        "PATCH",
        `${base}/${name}`,
        { data: { k: `${tag}-${i}` } },
        "application/merge-patch+json",
      );
      for (const seen of arrived)
        delivery.push((await waitFor(() => seen.get(key), `watch event for ${key}`, 10_000, 0)) - t0);
    }
  } finally {
    for (const w of ws) w.close();
  }
  return delivery;
}

export function apiRows(
  b: Bench,
  s: ApiSamples,
  targets: { get?: number; list?: number; create?: number } = {},
) {
  const row = (metric: string, v: number[], p: number, target?: number) =>
    b.rows.push({
      case: "API latency",
      metric: `${metric} p${p} (${v.length} samples, ${s.count} objects)`,
      unit: "ms",
      minik: percentile(v, p),
      target: target ? { op: "<=", value: target, text: `≤ ${target} ms` } : undefined,
    });
  row("get", s.get, 50);
  row("get", s.get, 99, targets.get);
  row(`list (all ${s.count})`, s.list, 50);
  row(`list (all ${s.count})`, s.list, 99, targets.list);
  row("create", s.create, 50);
  row("create", s.create, 99, targets.create);
  row("patch (merge)", s.patch, 50);
  row("patch (merge)", s.patch, 99);
}

export function deliveryRows(b: Bench, v: number[], watchers: number, count: number, target?: number) {
  for (const p of [50, 99])
    b.rows.push({
      case: "API latency",
      metric: `watch delivery (PATCH sent → event) p${p}, ${watchers} watch${watchers > 1 ? "es" : ""} open (${v.length} samples, ${count} objects)`,
      unit: "ms",
      minik: percentile(v, p),
      target: p === 99 && target ? { op: "<=", value: target, text: `≤ ${target} ms` } : undefined,
    });
}

/** 1,000 ConfigMaps: the API figures every other case runs beside. */
export async function apiLatencyCase(b: Bench, m: Minik, total = 1000): Promise<ApiSamples> {
  await fillConfigMaps(m, 0, total - 200);
  const s = await measureApi(m, total, total - 200);
  b.log(`api: ${s.count} configmaps stored`);
  apiRows(b, s);
  deliveryRows(b, await measureDelivery(m, total, 1), 1, s.count);
  return s;
}
