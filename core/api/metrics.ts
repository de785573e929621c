import { ApiError } from "../errors.ts";
import { goDuration } from "../loop/clock.ts";
import type { NodeServices } from "../seams/node-services.ts";
import type { ApiServerDeps } from "./deps.ts";
import { requireNode } from "./logs.ts";
import { json } from "./respond.ts";
import { methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

const API_VERSION = "metrics.k8s.io/v1beta1";
/**
 * Between two CPU samples when no earlier sample is at hand. A CFS limit is enforced per 100 ms
 * period, so a short window can catch one period's quota more than its share: 250 ms read up to
 * 300m (312m seen in CI) for a 250m limit; over a second the error stays within ~10 %.
 */
const SAMPLE_GAP_MS = 1000;
/** Samples of containers not seen for this long are dropped (deleted pods). */
const FORGET_AFTER_MS = 10 * 60_000;

type Sample = { cpu: number; at: number };
/** A CPU rate (nanocores) and the window it was measured over. */
type Rate = { nanocores: number; windowMs: number };

/**
 * A window as Go prints a time.Duration: `250ms`, `10s`, `12.5s` (at a minute and above, whole
 * seconds: `1m30s`).
 */
export function windowDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole >= 60_000) return goDuration(whole);
  if (whole === 0) return "0s";
  if (whole < 1000) return `${whole}ms`;
  return `${Number((whole / 1000).toFixed(3))}s`;
}

/**
 * metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics for `kubectl top`. NodeServices reports
 * cumulative CPU time; usage is the rate between this sample and the previous one (that span is
 * the `window`), so the first request samples twice.
 */
export function createMetrics(node: NodeServices) {
  const previous = new Map<string, Sample & Rate>();
  const rate = (key: string, cpu: number, at: number): Rate => {
    const before = previous.get(key);
    // the same sample again (stats cached by the node): keep the last rate
    if (before && at <= before.at) return before;
    const windowMs = before ? at - before.at : 0;
    const nanocores = before ? Math.max(0, ((cpu - before.cpu) / windowMs) * 1000) : 0;
    previous.set(key, { cpu, at, nanocores, windowMs });
    for (const [k, v] of previous) if (at - v.at > FORGET_AFTER_MS) previous.delete(k);
    return { nanocores, windowMs };
  };
  const needsWarmup = (keys: string[]) => keys.some((k) => !previous.has(k));
  return {
    async pods(namespace?: string) {
      let stats = await node.podStats(namespace);
      const keys = stats.flatMap((p) => p.containers.map((c) => `${p.namespace}/${p.name}/${c.name}`));
      if (needsWarmup(keys)) {
        for (const p of stats)
          for (const c of p.containers)
            rate(`${p.namespace}/${p.name}/${c.name}`, c.cpuUsageNanoSeconds, Date.parse(c.timestamp));
        await new Promise((r) => setTimeout(r, SAMPLE_GAP_MS));
        stats = await node.podStats(namespace);
      }
      return stats.map((p) => {
        const rates = p.containers.map((c) =>
          rate(`${p.namespace}/${p.name}/${c.name}`, c.cpuUsageNanoSeconds, Date.parse(c.timestamp)),
        );
        return {
          kind: "PodMetrics",
          apiVersion: API_VERSION,
          metadata: { name: p.name, namespace: p.namespace, creationTimestamp: new Date().toISOString() },
          timestamp: p.containers[0]?.timestamp ?? new Date().toISOString(),
          window: windowDuration(Math.max(0, ...rates.map((r) => r.windowMs))),
          containers: p.containers.map((c, i) => ({
            name: c.name,
            usage: {
              cpu: `${Math.round(rates[i]!.nanocores)}n`,
              memory: `${Math.round(c.memoryWorkingSetBytes / 1024)}Ki`,
            },
          })),
        };
      });
    },
    async node(name: string) {
      let stats = await node.nodeStats();
      if (needsWarmup(["node"])) {
        rate("node", stats.cpuUsageNanoSeconds, Date.parse(stats.timestamp));
        await new Promise((r) => setTimeout(r, SAMPLE_GAP_MS));
        stats = await node.nodeStats();
      }
      const cpu = rate("node", stats.cpuUsageNanoSeconds, Date.parse(stats.timestamp));
      return {
        kind: "NodeMetrics",
        apiVersion: API_VERSION,
        metadata: { name, creationTimestamp: new Date().toISOString() },
        timestamp: stats.timestamp,
        window: windowDuration(cpu.windowMs),
        usage: {
          cpu: `${Math.round(cpu.nanocores)}n`,
          memory: `${Math.round(stats.memoryWorkingSetBytes / 1024)}Ki`,
        },
      };
    },
  };
}

const cache = new WeakMap<NodeServices, ReturnType<typeof createMetrics>>();

export async function handleMetrics(req: Request, t: Target, deps: ApiServerDeps): Promise<Response> {
  if (req.method !== "GET") throw methodNotAllowed(req.method, t);
  const node = requireNode(deps);
  let metrics = cache.get(node);
  if (!metrics) {
    metrics = createMetrics(node);
    cache.set(node, metrics);
  }
  if (t.info.plural === "pods") {
    const items = await metrics.pods(t.namespace);
    if (t.name) {
      const one = items.find((p) => p.metadata.name === t.name);
      if (!one)
        throw new ApiError("NotFound", `podmetrics.metrics.k8s.io "${t.name}" not found`, {
          name: t.name,
          group: "metrics.k8s.io",
          kind: "pods",
        });
      return json(one);
    }
    return json({ kind: "PodMetricsList", apiVersion: API_VERSION, metadata: {}, items });
  }
  const nodes = (await deps.client.list("nodes")).items.map((n) => n.metadata.name!);
  const names = nodes.length ? nodes : ["minik"];
  if (t.name) {
    if (!names.includes(t.name))
      throw new ApiError("NotFound", `nodemetrics.metrics.k8s.io "${t.name}" not found`, {
        name: t.name,
        group: "metrics.k8s.io",
        kind: "nodes",
      });
    return json(await metrics.node(t.name));
  }
  return json({
    kind: "NodeMetricsList",
    apiVersion: API_VERSION,
    metadata: {},
    items: [await metrics.node(names[0]!)],
  });
}
