import type {
  Container,
  ContainerState,
  ContainerStatus as KubeContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1";
import { kubeTime } from "../loop/clock.ts";
import type { ContainerStatus, SandboxStatus } from "../seams/container-runtime.ts";
import { qosClass } from "./container-config.ts";

/**
 * Pod status computed from what the runtime reports plus what the agent decided this sync
 * (waiting reasons, probe results). Pure: the same inputs give the same status, so the agent
 * writes only when something really changed.
 */
export interface ContainerView {
  /** Newest runtime container for this name. */
  current?: ContainerStatus;
  /** The one before it (kept for `logs --previous`). */
  previous?: ContainerStatus;
  /** Why it is not running, when the agent knows (CrashLoopBackOff, ErrImagePull, …). */
  waiting?: { reason: string; message?: string };
  restartCount: number;
  /** Readiness probe result (or true without a readiness probe). */
  ready: boolean;
  /** Startup probe passed (or true without one). */
  started: boolean;
}

export interface StatusInput {
  pod: Pod;
  now: number;
  runtimeName: string;
  sandbox?: SandboxStatus;
  hostIP?: string;
  /** The pod's address when it is not the sandbox's (hostNetwork: the node's). */
  podIP?: string;
  views: Map<string, ContainerView>;
}

type Terminated = NonNullable<ContainerState["terminated"]>;

/** The exit code, or 137 (as Kubernetes reports ContainerStatusUnknown) when the runtime lost it. */
export function exitCodeOf(c: ContainerStatus): number {
  return c.exitCode ?? 137;
}

function terminated(c: ContainerStatus, runtimeName: string): Terminated {
  const exitCode = exitCodeOf(c);
  return {
    exitCode,
    reason: c.reason ?? (exitCode === 0 ? "Completed" : "Error"),
    ...(c.message ? { message: c.message } : {}),
    // a process that never started has the zero time, as the kubelet shows it
    startedAt: kubeTime(
      c.startedAt ? Date.parse(c.startedAt) : c.reason === "StartError" ? 0 : Date.parse(c.createdAt),
    ),
    finishedAt: kubeTime(Date.parse(c.finishedAt ?? c.startedAt ?? c.createdAt)),
    containerID: `${runtimeName}://${c.id}`,
  };
}

function containerStatus(
  spec: Container,
  view: ContainerView | undefined,
  runtimeName: string,
  init: boolean,
  defaultWaiting: string,
): KubeContainerStatus {
  const current = view?.current;
  const base = {
    name: spec.name,
    image: spec.image ?? "",
    imageID: current?.imageId ?? "",
    ...(current ? { containerID: `${runtimeName}://${current.id}` } : {}),
    restartCount: view?.restartCount ?? 0,
  };
  const waiting = (reason: string, message?: string): ContainerState => ({
    waiting: { reason, ...(message ? { message } : {}) },
  });
  if (current?.state === "running") {
    const started = view!.started;
    return {
      ...base,
      state: { running: { startedAt: kubeTime(Date.parse(current.startedAt ?? current.createdAt)) } },
      lastState:
        view?.previous?.state === "exited" ? { terminated: terminated(view.previous, runtimeName) } : {},
      ready: started && view!.ready,
      started,
    };
  }
  if (current?.state === "exited") {
    const end = terminated(current, runtimeName);
    if (view?.waiting) {
      return {
        ...base,
        state: waiting(view.waiting.reason, view.waiting.message),
        lastState: { terminated: end },
        ready: false,
        started: false,
      };
    }
    return {
      ...base,
      state: { terminated: end },
      lastState:
        view?.previous?.state === "exited" ? { terminated: terminated(view.previous, runtimeName) } : {},
      // A completed init container counts as ready, as the kubelet reports it (a sidecar never
      // completes: stopped, it is not ready).
      ready: init && !isSidecar(spec) && end.exitCode === 0,
      started: false,
    };
  }
  const w = view?.waiting ?? { reason: defaultWaiting };
  return { ...base, state: waiting(w.reason, w.message), lastState: {}, ready: false, started: false };
}

/** A native sidecar: an init container with `restartPolicy: Always` (Kubernetes 1.29+). */
export function isSidecar(c: Container): boolean {
  return c.restartPolicy === "Always";
}

function initSucceeded(s: KubeContainerStatus): boolean {
  return s.state?.terminated?.exitCode === 0;
}

/** A regular init container completed, or a sidecar is running and started. */
function initDone(spec: Container, s: KubeContainerStatus): boolean {
  return isSidecar(spec) ? Boolean(s.state?.running && s.started) : initSucceeded(s);
}

/**
 * Kubernetes' getPhase over the computed container statuses (pkg/kubelet/kubelet_pods.go).
 * Sidecars count as running while they run; a stopped sidecar is neither running nor stopped,
 * so a pod whose app containers all succeeded is Succeeded once its sidecars are stopped.
 * `initializedBefore`: an app container already ran, so a restarting sidecar keeps it out of Pending.
 */
export function podPhase(
  pod: Pod,
  init: KubeContainerStatus[],
  app: KubeContainerStatus[],
  initializedBefore = false,
): string {
  const policy = pod.spec?.restartPolicy ?? "Always";
  const specs = pod.spec?.initContainers ?? [];
  const sidecar = (s: KubeContainerStatus) => specs.some((c) => c.name === s.name && isSidecar(c));
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let running = 0;
  for (const s of init) {
    if (sidecar(s)) {
      if (s.state?.running) {
        if (!s.started) pendingSidecars++;
        running++;
      } else if (!s.state?.terminated && !s.lastState?.terminated) pendingSidecars++;
      continue;
    }
    if (s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let stopped = 0;
  let succeeded = 0;
  let appWaiting = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else appWaiting++;
  }
  if (failedInit > 0 && policy === "Never") return "Failed";
  const anyAppStarted = app.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  if (
    (pendingInit > 0 && !anyAppStarted) ||
    (pendingSidecars > 0 && !anyAppStarted && !initializedBefore) ||
    appWaiting > 0
  )
    return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

function condition(
  old: PodCondition[] | undefined,
  now: number,
  type: string,
  ok: boolean,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? "True" : "False";
  const prev = old?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null as unknown as string,
    lastTransitionTime:
      prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : kubeTime(now),
    ...(!ok && reason ? { reason } : {}),
    ...(!ok && message ? { message } : {}),
  };
}

export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, now, runtimeName, views } = input;
  const old = (pod.status ?? {}) as PodStatus;
  const initSpecs = pod.spec?.initContainers ?? [];
  const initStatuses = initSpecs.map((c) =>
    containerStatus(c, views.get(c.name), runtimeName, true, "PodInitializing"),
  );
  const initialized = initSpecs.every((c, i) => initDone(c, initStatuses[i]!));
  const appStatuses = (pod.spec?.containers ?? [])
    .map((c) =>
      containerStatus(
        c,
        views.get(c.name),
        runtimeName,
        false,
        initialized ? "ContainerCreating" : "PodInitializing",
      ),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const initializedBefore =
    old.conditions?.some((c) => c.type === "Initialized" && c.status === "True") ?? false;
  let phase = podPhase(pod, initStatuses, appStatuses, initializedBefore);
  // A pod that finished stays finished.
  if (old.phase === "Succeeded" || old.phase === "Failed") phase = old.phase;

  // Once initialized, a pod with sidecars stays so (a sidecar restarting later does not undo it).
  const incomplete =
    initializedBefore && initSpecs.some(isSidecar)
      ? []
      : initSpecs.filter((c, i) => !initDone(c, initStatuses[i]!)).map((c) => c.name);
  // Sidecars' readiness counts towards the pod's, ahead of the app containers.
  const unready = [
    ...initStatuses.filter((s, i) => isSidecar(initSpecs[i]!) && !s.ready),
    ...appStatuses.filter((s) => !s.ready),
  ].map((s) => s.name);
  const completed = phase === "Succeeded" || phase === "Failed";
  const notReadyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const notReadyMessage = completed ? undefined : `containers with unready status: [${unready.join(" ")}]`;
  const containersReady = unready.length === 0 && !completed;
  // Readiness gates: Ready also needs every gate's condition (written by others) to be True.
  const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const missingGate = gates.find((t) => !old.conditions?.some((c) => c.type === t));
  const falseGates = gates.filter((t) => old.conditions?.some((c) => c.type === t && c.status !== "True"));
  const gatesOk = !missingGate && falseGates.length === 0;
  const readyMessage = !containersReady
    ? notReadyMessage
    : missingGate
      ? `corresponding condition of pod readiness gate "${missingGate}" does not exist.`
      : `the status of pod readiness gate "${falseGates[0]}" is not "True", but False`;
  const mine = [
    condition(old.conditions, now, "PodReadyToStartContainers", Boolean(input.sandbox?.ready)),
    condition(
      old.conditions,
      now,
      "Initialized",
      incomplete.length === 0,
      "ContainersNotInitialized",
      `containers with incomplete status: [${incomplete.join(" ")}]`,
    ),
    condition(
      old.conditions,
      now,
      "Ready",
      containersReady && gatesOk,
      containersReady ? "ReadinessGatesNotReady" : notReadyReason,
      readyMessage,
    ),
    condition(old.conditions, now, "ContainersReady", containersReady, notReadyReason, notReadyMessage),
    condition(old.conditions, now, "PodScheduled", true),
  ];
  // Conditions owned by others (readiness gates, DisruptionTarget, …) are kept as they are.
  const owned = new Set(mine.map((c) => c.type));
  const conditions = [...mine, ...(old.conditions ?? []).filter((c) => !owned.has(c.type))];

  const podIP = input.podIP ?? input.sandbox?.ip ?? old.podIP;
  // Fields the agent does not own (nominatedNodeName, reason, message, …) are carried over.
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    ...(input.hostIP ? { hostIP: input.hostIP, hostIPs: [{ ip: input.hostIP }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? kubeTime(now),
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: appStatuses,
    qosClass: qosClass(pod),
  };
  return status;
}

/** Deep equality that ignores key order and undefined fields (stored JSON vs computed object). */
export function sameStatus(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameStatus(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameStatus(ao[k], bo[k])) return false;
  return true;
}
