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

export async function apiLatencyCase(b: Bench, m: Minik, total = 1000) {
  const timedCreates = 200;
  // the bulk of the objects, 8 requests in flight (not timed)
  const bulk = total - timedCreates;
  for (let i = 0; i < bulk; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, bulk - i) }, (_, j) => m.json("POST", base, cm(`cm-${i + j}`))),
    );
  }
  const create: number[] = [];
  for (let i = bulk; i < total; i++) create.push(await timed(m, "POST", base, cm(`cm-${i}`)));
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

  // watch delivery
  const rv = (await m.json("GET", `${base}?limit=1`)).metadata.resourceVersion;
  const arrived = new Map<string, number>();
  const w = watch(m, `${base}?resourceVersion=${rv}`, (ev, at) => {
    if (ev.type === "MODIFIED") arrived.set(`${ev.object.metadata.name}/${ev.object.data?.k}`, at);
  });
  await w.ready;
  const delivery: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const name = `cm-${(i * 13) % total}`;
      const key = `${name}/w${i}`;
      const t0 = now();
      await m.json("PATCH", `${base}/${name}`, { data: { k: `w${i}` } }, "application/merge-patch+json");
      const at = await waitFor(() => arrived.get(key), `watch event for ${key}`, 10_000, 0);
      delivery.push(at - t0);
    }
  } finally {
    w.close();
  }
  const count = (await m.json("GET", base)).items.length;
  b.log(`api: ${count} configmaps stored`);
  const row = (metric: string, s: number[], p: number, target?: number) =>
    b.rows.push({
      case: "API latency",
      metric: `${metric} p${p} (${s.length} samples, ${count} objects)`,
      unit: "ms",
      minik: percentile(s, p),
      target: target ? { op: "<=", value: target, text: `≤ ${target} ms` } : undefined,
    });
  row("get", get, 50);
  row("get", get, 99, 5);
  row("list (all 1,000)", list, 50);
  row("list (all 1,000)", list, 99);
  row("create", create, 50);
  row("create", create, 99, 20);
  row("patch (merge)", patch, 50);
  row("patch (merge)", patch, 99, 20);
  row("watch delivery (PATCH sent → event)", delivery, 50, 10);
  row("watch delivery (PATCH sent → event)", delivery, 99);
}
