import type { Pod } from "kubernetes-types/core/v1";
import { parseTime } from "../loop/clock.ts";
import { cpuMillis, quantityValue } from "../quantity.ts";

/** What pods look like to the controllers that count, rank and schedule them. */

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** When the pod last became Ready (NaN when not ready). */
export function readySince(pod: Pod): number {
  const c = pod.status?.conditions?.find((x) => x.type === "Ready" && x.status === "True");
  return parseTime(c?.lastTransitionTime);
}

/** Ready for at least minReadySeconds (Kubernetes' IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = readySince(pod);
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

/** Ms until a ready pod becomes available, or undefined when it is not on its way. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  if (!minReadySeconds || !isPodReady(pod)) return undefined;
  const since = readySince(pod);
  const left = (Number.isNaN(since) ? now : since) + minReadySeconds * 1000 - now;
  return left > 0 ? left : undefined;
}

export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Counts towards a ReplicaSet: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

export interface PodRequests {
  cpuMillis: number;
  memory: number;
  ephemeralStorage: number;
}

/**
 * What the scheduler reserves for a pod: the sum over containers, or the largest init container
 * if that is more (they run one at a time, before the rest), plus the pod overhead.
 */
export function podRequests(pod: Pod): PodRequests {
  const of = (r: Record<string, string | number> | undefined, name: string) => r?.[name];
  const sum: PodRequests = { cpuMillis: 0, memory: 0, ephemeralStorage: 0 };
  const add = (to: PodRequests, req: Record<string, string | number> | undefined) => {
    to.cpuMillis += cpuMillis(of(req, "cpu"));
    to.memory += quantityValue(of(req, "memory"));
    to.ephemeralStorage += quantityValue(of(req, "ephemeral-storage"));
  };
  for (const c of pod.spec?.containers ?? []) add(sum, c.resources?.requests ?? c.resources?.limits);
  for (const c of pod.spec?.initContainers ?? []) {
    const init: PodRequests = { cpuMillis: 0, memory: 0, ephemeralStorage: 0 };
    add(init, c.resources?.requests ?? c.resources?.limits);
    sum.cpuMillis = Math.max(sum.cpuMillis, init.cpuMillis);
    sum.memory = Math.max(sum.memory, init.memory);
    sum.ephemeralStorage = Math.max(sum.ephemeralStorage, init.ephemeralStorage);
  }
  add(sum, pod.spec?.overhead);
  return sum;
}
