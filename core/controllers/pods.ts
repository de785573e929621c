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
 * What the scheduler reserves for a pod, as Kubernetes computes it (component-helpers'
 * PodRequests): the app containers plus the sidecars (restartPolicy: Always init containers, which
 * keep running), or, if more, what the init sequence needs at its peak — each init container with
 * the sidecars started before it; plus the pod overhead.
 */
export function podRequests(pod: Pod): PodRequests {
  const of = (r: Record<string, string | number> | undefined, name: string) => r?.[name];
  const zero = (): PodRequests => ({ cpuMillis: 0, memory: 0, ephemeralStorage: 0 });
  const sum = zero();
  const add = (to: PodRequests, req: Record<string, string | number> | undefined) => {
    to.cpuMillis += cpuMillis(of(req, "cpu"));
    to.memory += quantityValue(of(req, "memory"));
    to.ephemeralStorage += quantityValue(of(req, "ephemeral-storage"));
  };
  const max = (to: PodRequests, other: PodRequests) => {
    to.cpuMillis = Math.max(to.cpuMillis, other.cpuMillis);
    to.memory = Math.max(to.memory, other.memory);
    to.ephemeralStorage = Math.max(to.ephemeralStorage, other.ephemeralStorage);
  };
  for (const c of pod.spec?.containers ?? []) add(sum, c.resources?.requests ?? c.resources?.limits);
  const sidecars = zero();
  const initPeak = zero();
  for (const c of pod.spec?.initContainers ?? []) {
    const req = c.resources?.requests ?? c.resources?.limits;
    if (c.restartPolicy === "Always") {
      add(sum, req);
      add(sidecars, req);
      max(initPeak, sidecars);
    } else {
      const init = { ...sidecars };
      add(init, req);
      max(initPeak, init);
    }
  }
  max(sum, initPeak);
  add(sum, pod.spec?.overhead);
  return sum;
}
