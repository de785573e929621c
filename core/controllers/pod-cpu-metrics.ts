import { type Clock, systemClock } from "../loop/clock.ts";
import type { NodeServices } from "../seams/node-services.ts";
import type { PodMetrics } from "./hpa-controller.ts";

/** Stats fetched for one namespace are reused for this long (one HPA sync reads many pods). */
const FRESH_MS = 1000;

/**
 * The HPA's CPU source over the node's stats: NodeServices reports cumulative CPU time per
 * container, so usage is the rate between this sample and the previous one of the same pod
 * (undefined on the first sample, which the HPA treats as "no metrics yet").
 */
export function createPodCpuMetrics(
  node: Pick<NodeServices, "podStats">,
  clock: Pick<Clock, "now"> = systemClock,
): PodMetrics {
  const previous = new Map<string, { cpuNs: number; at: number; millis?: number }>();
  const fetched = new Map<string, { at: number; cpu: Promise<Map<string, { cpuNs: number; at: number }>> }>();

  function totals(namespace: string) {
    const hit = fetched.get(namespace);
    if (hit && clock.now() - hit.at < FRESH_MS) return hit.cpu;
    const cpu = node.podStats(namespace).then((pods) => {
      const out = new Map<string, { cpuNs: number; at: number }>();
      for (const p of pods) {
        const cpuNs = p.containers.reduce((n, c) => n + c.cpuUsageNanoSeconds, 0);
        const at = Math.max(0, ...p.containers.map((c) => Date.parse(c.timestamp) || 0)) || clock.now();
        out.set(p.name, { cpuNs, at });
      }
      return out;
    });
    fetched.set(namespace, { at: clock.now(), cpu });
    return cpu;
  }

  return {
    async podCpuMillis(namespace, podName) {
      const sample = (await totals(namespace)).get(podName);
      if (!sample) return undefined;
      const key = `${namespace}/${podName}`;
      const before = previous.get(key);
      if (!before || sample.at < before.at) {
        previous.set(key, sample);
        return undefined;
      }
      if (sample.at === before.at) return before.millis;
      const millis = Math.max(0, (sample.cpuNs - before.cpuNs) / 1e6 / ((sample.at - before.at) / 1000));
      previous.set(key, { ...sample, millis });
      return millis;
    },
  };
}
