import type { Container, Pod, Probe } from "kubernetes-types/core/v1";
import type { Clock } from "../loop/clock.ts";
import type { ContainerRuntime, ContainerStatus } from "../seams/container-runtime.ts";
import type { DuplexStream } from "../seams/node-services.ts";
import { runHandler } from "./handlers.ts";
import { isSidecar } from "./pod-status.ts";

/**
 * Liveness, readiness and startup probes with the kubelet's semantics: one worker per container
 * and probe kind, probing every periodSeconds (the first at once), skipping until
 * initialDelaySeconds have passed since the container started, publishing a result only after
 * successThreshold/failureThreshold consecutive outcomes. Liveness and readiness wait for the
 * startup probe. A failed liveness/startup result asks the agent to kill the container and the
 * worker goes quiet until a new container id appears.
 */
export type ProbeKind = "liveness" | "readiness" | "startup";

export interface ProbeManagerDeps {
  runtime: ContainerRuntime;
  /** Prefix of status containerIDs (`crun://`), to recognise containers the stored status knows. */
  runtimeName: string;
  clock: Clock;
  dial: (ip: string, port: number) => Promise<DuplexStream>;
  /** A published result changed (readiness/started): the pod's status must be recomputed. */
  onChange(podUid: string): void;
  /** Liveness/startup failed for good: restart the container. */
  onKill(podUid: string, containerId: string, kind: ProbeKind, message: string): void;
  /** Each failed attempt, for the Unhealthy event. */
  onFailure(pod: Pod, container: string, kind: ProbeKind, message: string): void;
}

interface Worker {
  kind: ProbeKind;
  probe: Probe;
  timer?: unknown;
  result: boolean;
  run: number;
  last?: boolean;
  stopped: boolean;
}

interface ContainerProbes {
  containerId: string;
  startedAt: number;
  workers: Map<ProbeKind, Worker>;
  pod: Pod;
  spec: Container;
  podIP?: string;
}

const INITIAL: Record<ProbeKind, boolean> = { liveness: true, readiness: false, startup: false };
const LABEL: Record<ProbeKind, string> = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" };

export interface ProbeManager {
  /** Starts workers for the pod's running containers and stops those of containers gone. */
  sync(pod: Pod, running: Map<string, ContainerStatus>, podIP: string | undefined): void;
  ready(containerId: string): boolean;
  started(containerId: string): boolean;
  removePod(podUid: string): void;
  stopAll(): void;
}

export function createProbeManager(deps: ProbeManagerDeps): ProbeManager {
  const byContainer = new Map<string, ContainerProbes>();
  const byPod = new Map<string, Set<string>>();

  function stopContainer(id: string): void {
    const cp = byContainer.get(id);
    if (!cp) return;
    for (const w of cp.workers.values()) {
      w.stopped = true;
      if (w.timer !== undefined) deps.clock.clearTimeout(w.timer);
    }
    byContainer.delete(id);
  }

  function started(cp: ContainerProbes): boolean {
    const startup = cp.workers.get("startup");
    return !startup || startup.result;
  }

  function schedule(cp: ContainerProbes, w: Worker, ms: number): void {
    if (w.stopped) return;
    if (ms === 0) queueMicrotask(() => void tick(cp, w));
    else w.timer = deps.clock.setTimeout(() => void tick(cp, w), ms);
  }

  async function tick(cp: ContainerProbes, w: Worker): Promise<void> {
    if (w.stopped) return;
    const period = (w.probe.periodSeconds ?? 10) * 1000;
    const skip =
      (w.kind !== "startup" && !started(cp)) ||
      (w.kind === "startup" && w.result) ||
      deps.clock.now() - cp.startedAt < (w.probe.initialDelaySeconds ?? 0) * 1000;
    if (skip) {
      if (!(w.kind === "startup" && w.result)) schedule(cp, w, period);
      return;
    }
    const outcome = await runHandler(deps, cp, w.probe, (w.probe.timeoutSeconds ?? 1) * 1000);
    if (w.stopped) return;
    if (!outcome.ok) deps.onFailure(cp.pod, cp.spec.name, w.kind, outcome.message);
    w.run = w.last === outcome.ok ? w.run + 1 : 1;
    w.last = outcome.ok;
    const threshold = outcome.ok ? (w.probe.successThreshold ?? 1) : (w.probe.failureThreshold ?? 3);
    if (w.run >= threshold && w.result !== outcome.ok) {
      w.result = outcome.ok;
      const uid = cp.pod.metadata?.uid ?? "";
      if (!outcome.ok && w.kind !== "readiness") {
        // The container will be restarted; stop probing until a new container id shows up.
        w.stopped = true;
        deps.onKill(uid, cp.containerId, w.kind, outcome.message);
        deps.onChange(uid);
        return;
      }
      deps.onChange(uid);
    }
    schedule(cp, w, period);
  }

  return {
    sync(pod, running, podIP) {
      const uid = pod.metadata?.uid ?? "";
      const keep = new Set<string>();
      // Sidecars (restartPolicy: Always init containers) are probed like app containers.
      const probed = [...(pod.spec?.initContainers ?? []).filter(isSidecar), ...(pod.spec?.containers ?? [])];
      for (const spec of probed) {
        const c = running.get(spec.name);
        if (!c) continue;
        keep.add(c.id);
        const existing = byContainer.get(c.id);
        if (existing) {
          existing.pod = pod;
          existing.podIP = podIP;
          continue;
        }
        const cp: ContainerProbes = {
          containerId: c.id,
          startedAt: Date.parse(c.startedAt ?? c.createdAt),
          workers: new Map(),
          pod,
          spec,
          podIP,
        };
        const probes: [ProbeKind, Probe | undefined][] = [
          ["startup", spec.startupProbe],
          ["liveness", spec.livenessProbe],
          ["readiness", spec.readinessProbe],
        ];
        // A container already running before the agent (re)started keeps its published results,
        // so a minik restart does not flap readiness (and Service endpoints).
        const known = [
          ...(pod.status?.containerStatuses ?? []),
          ...(pod.status?.initContainerStatuses ?? []),
        ].find((s) => s.containerID === `${deps.runtimeName}://${c.id}`);
        const initial = (kind: ProbeKind) =>
          kind === "readiness" && known
            ? known.ready
            : kind === "startup" && known
              ? Boolean(known.started)
              : INITIAL[kind];
        for (const [kind, probe] of probes) {
          if (probe) cp.workers.set(kind, { kind, probe, result: initial(kind), run: 0, stopped: false });
        }
        byContainer.set(c.id, cp);
        for (const w of cp.workers.values()) schedule(cp, w, 0);
      }
      const previous = byPod.get(uid) ?? new Set();
      for (const id of previous) if (!keep.has(id)) stopContainer(id);
      byPod.set(uid, keep);
    },
    ready(id) {
      const cp = byContainer.get(id);
      if (!cp) return true;
      if (!started(cp)) return false;
      return cp.workers.get("readiness")?.result ?? true;
    },
    started(id) {
      const cp = byContainer.get(id);
      return !cp || started(cp);
    },
    removePod(uid) {
      for (const id of byPod.get(uid) ?? []) stopContainer(id);
      byPod.delete(uid);
    },
    stopAll() {
      for (const id of [...byContainer.keys()]) stopContainer(id);
      byPod.clear();
    },
  };
}

export function probeLabel(kind: ProbeKind): string {
  return LABEL[kind];
}
