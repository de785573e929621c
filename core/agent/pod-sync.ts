import type { Container, Pod } from "kubernetes-types/core/v1";
import { goDuration } from "../loop/clock.ts";
import type { KubeObject } from "../object.ts";
import { type ContainerStatus, RuntimeError, type SandboxStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { pullPolicyOf, type StartScope, startContainer } from "./container-start.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { activeDeadline, failPastDeadline, settleFinished } from "./pod-finish.ts";
import { asObject, podDescription } from "./pod-names.ts";
import { type ContainerView, computePodStatus, exitCodeOf, isSidecar } from "./pod-status.ts";
import { teardownPod, terminatePod } from "./pod-teardown.ts";
import { addLogMessages, nextAttempt, viewOf, withOom, writeStatus } from "./pod-views.ts";
import { podAddress, sandboxConfig } from "./sandbox.ts";
import { appsFinished, shouldRestart, sidecarsOf, stopSidecars } from "./sidecars.ts";
import { prefetchTokens } from "./volumes.ts";

/**
 * One level-triggered reconcile of one pod: read the pod and what the runtime runs for it, take
 * the next step (sandbox, init containers in order, containers, restarts with back-off, probe
 * kills, termination), then write status if it changed. Safe to run any number of times.
 */
/** Sandbox retries: 200 ms, doubling to 10 s (a transient failure should not cost seconds). */
const SANDBOX_RETRY_FIRST_MS = 200;
const SANDBOX_RETRY_MAX_MS = 10_000;
const SIDECAR_STOP_RECHECK_MS = 1000;

export async function syncPod(deps: AgentDeps, key: string): Promise<void> {
  const slash = key.indexOf("/");
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  let pod = await deps.client.tryGet<Pod & KubeObject>("pods", namespace, name);
  const tracked = deps.memory.trackedUid(key);
  if (!pod || pod.spec?.nodeName !== deps.nodeName) {
    if (tracked) {
      await teardownPod(deps, tracked);
      deps.memory.untrack(key);
    }
    return;
  }
  const uid = pod.metadata?.uid ?? "";
  if (tracked && tracked !== uid) await teardownPod(deps, tracked);
  deps.memory.track(key, uid, pod.spec?.terminationGracePeriodSeconds);

  let mine = (await deps.runtime.listContainers())
    .filter((c) => c.podUid === uid)
    .map((c) => withOom(deps, c));
  // Syncs of one pod never overlap, so a container still "created" (or of unknown state) is the
  // leftover of a start that crashed half-way: remove it and start afresh.
  const stuck = mine.filter((c) => c.state === "created" || c.state === "unknown");
  for (const c of stuck) await deps.runtime.removeContainer(c.id);
  if (stuck.length) mine = mine.filter((c) => !stuck.includes(c));
  if (pod.metadata?.deletionTimestamp) {
    await terminatePod(deps, pod, mine);
    deps.memory.untrack(key);
    return;
  }

  let sandbox = (await deps.runtime.listPodSandboxes()).find((s) => s.podUid === uid);
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    await settleFinished(deps, pod, mine, sandbox);
    return;
  }

  const deadline = activeDeadline(pod);
  if (deadline !== undefined && deps.clock.now() >= deadline) {
    await failPastDeadline(deps, pod, mine);
    return;
  }

  const views = new Map<string, ContainerView>();
  let retryMs: number | undefined;
  const retry = (ms: number | undefined) => {
    if (ms !== undefined) retryMs = Math.min(retryMs ?? ms, ms);
  };
  const podObj = asObject(pod);

  // A new sandbox comes first: the pod's tokens are signed meanwhile, not after it.
  const tokens =
    !sandbox?.ready && deps.serviceAccountToken ? prefetchTokens(pod, deps.serviceAccountToken) : undefined;
  if (!sandbox?.ready) {
    try {
      sandbox = await deps.runtime.runPodSandbox(sandboxConfig(pod, deps.clusterDns, deps.hostDns));
      deps.memory.sandboxStarted(uid);
    } catch (e) {
      if (!(e instanceof RuntimeError)) throw e;
      deps.events.record(
        podObj,
        "Warning",
        "FailedCreatePodSandBox",
        `Failed to create pod sandbox: ${e.message}`,
      );
      const failures = deps.memory.sandboxFailed(uid);
      retry(Math.min(SANDBOX_RETRY_MAX_MS, SANDBOX_RETRY_FIRST_MS * 2 ** (failures - 1)));
      sandbox = undefined;
    }
  }

  const hostIP = await deps.hostIP();
  const podIP = podAddress(pod, sandbox?.ip, hostIP);
  const scope: StartScope = {
    placement: {
      podIP,
      hostIP,
      nodeAllocatable: deps.nodeAllocatable,
    },
    ...(tokens ? { serviceAccountToken: tokens } : {}),
  };
  const policy = pod.spec?.restartPolicy ?? "Always";

  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const mayPull = specs.some((c) => pullPolicyOf(c) === "Always" || !deps.memory.hasPulled(c.image ?? ""));
  if (!pod.status?.containerStatuses && mayPull) {
    // First sight of the pod: show ContainerCreating and its IP before a possibly slow image pull
    // (skipped when every image is known here: the start is quick and one write is enough).
    const first = new Map<string, ContainerView>();
    for (const spec of specs) {
      first.set(spec.name, viewOf(pod, spec, mine));
    }
    pod = await writeStatus(
      deps,
      pod,
      computePodStatus({
        pod,
        now: deps.clock.now(),
        runtimeName: deps.runtime.name,
        sandbox,
        hostIP,
        podIP,
        views: first,
      }),
    );
  }

  const appViews = new Map((pod.spec?.containers ?? []).map((spec) => [spec.name, viewOf(pod, spec, mine)]));
  // Once an app container ran, the init sequence is over: a sidecar restarting no longer gates.
  const appsStarted = [...appViews.values()].some((v) => v.current) || hadStarted(pod);
  const finishing = appsFinished(pod, appViews);

  let initialized = true;
  for (const spec of pod.spec?.initContainers ?? []) {
    const view = viewOf(pod, spec, mine);
    views.set(spec.name, view);
    if (isSidecar(spec)) {
      if (finishing) continue; // stopped below, never restarted
      const cur = view.current;
      if (cur?.state === "running") {
        killIfNeeded(deps, pod, spec, cur);
        if (!appsStarted && !deps.probes.started(cur.id)) initialized = false;
        continue;
      }
      if (!initialized || !sandbox?.ready) continue;
      retry(await ensureStarted(deps, pod, spec, view, scope));
      // The next init container waits for this one to be started (its startupProbe passed).
      if (!appsStarted && (view.current?.state !== "running" || spec.startupProbe)) initialized = false;
      continue;
    }
    if (!initialized) continue;
    const cur = view.current;
    if (cur?.state === "exited" && exitCodeOf(cur) === 0 && (policy === "Never" || !predates(cur, sandbox)))
      continue;
    initialized = false;
    if (!sandbox?.ready || cur?.state === "running") continue;
    if (cur?.state === "exited" && policy === "Never") continue;
    retry(await ensureStarted(deps, pod, spec, view, scope));
  }

  for (const spec of pod.spec?.containers ?? []) {
    const view = appViews.get(spec.name)!;
    views.set(spec.name, view);
    if (!initialized || !sandbox?.ready) continue;
    const cur = view.current;
    if (cur && cur.state !== "exited") {
      killIfNeeded(deps, pod, spec, cur);
      continue;
    }
    const changed = cur && deps.memory.killRequest(cur.id)?.kind === "definition";
    if (cur?.state === "exited" && !changed && !shouldRestart(policy, exitCodeOf(cur))) continue;
    retry(await ensureStarted(deps, pod, spec, view, scope));
  }

  if (finishing && sidecarsOf(pod).some((c) => views.get(c.name)?.current?.state === "running")) {
    // Every app container is done: the kubelet stops the sidecars (last first) so the pod can end.
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    await stopSidecars(deps, pod, (c) => views.get(c.name)?.current, grace);
    // their exit events bring the final sync; this is the safety net (a stop still under way)
    retry(SIDECAR_STOP_RECHECK_MS);
  }

  const running = new Map<string, ContainerStatus>();
  const probed = [...sidecarsOf(pod), ...(pod.spec?.containers ?? [])];
  for (const spec of probed) {
    const cur = views.get(spec.name)?.current;
    if (cur?.state === "running") running.set(spec.name, cur);
  }
  deps.probes.sync(pod, running, podIP);
  for (const spec of probed) {
    const view = views.get(spec.name)!;
    const cur = view.current;
    if (cur?.state === "running") {
      view.started = deps.probes.started(cur.id);
      view.ready = deps.probes.ready(cur.id) && deps.memory.killRequest(cur.id) === undefined;
    }
  }

  await pruneOldContainers(deps, mine, views);
  await addLogMessages(deps, pod, views);

  const status = computePodStatus({
    pod,
    now: deps.clock.now(),
    runtimeName: deps.runtime.name,
    sandbox,
    hostIP,
    podIP,
    views,
  });
  await writeStatus(deps, pod, status);
  if (status.phase === "Succeeded" || status.phase === "Failed") {
    // A finished pod keeps its containers (for logs) but gives back its network.
    deps.probes.removePod(uid);
    await deps.runtime.stopPodSandbox(uid);
  } else {
    // startTime may have been set by this very sync.
    const ends = activeDeadline({ ...pod, status });
    if (ends !== undefined) retry(ends - deps.clock.now());
    if (retryMs !== undefined) deps.requeueAfter(key, retryMs);
  }
}

/**
 * A container created before the pod's current sandbox ran in a sandbox that died (host reboot,
 * lost network namespace): the kubelet runs init containers again in the new one.
 */
function predates(c: ContainerStatus, sandbox: SandboxStatus | undefined): boolean {
  return sandbox !== undefined && Date.parse(c.createdAt) < Date.parse(sandbox.createdAt);
}

/** The stored status shows an app container that ran (the runtime may have lost it: a reboot). */
function hadStarted(pod: Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((s) => s.containerID || s.lastState?.terminated);
}

/** Starts (or restarts, honouring CrashLoopBackOff) a container; returns when to retry. */
async function ensureStarted(
  deps: AgentDeps,
  pod: Pod,
  spec: Container,
  view: ContainerView,
  scope: StartScope,
): Promise<number | undefined> {
  const cur = view.current;
  if (cur?.state === "exited") {
    const backoffKey = `${pod.metadata?.uid}/${spec.name}`;
    const finished = Date.parse(cur.finishedAt ?? cur.startedAt ?? cur.createdAt);
    if (deps.memory.restarts.isInBackoffSince(backoffKey, finished)) {
      const delay = goDuration(deps.memory.restarts.get(backoffKey));
      view.waiting = {
        reason: "CrashLoopBackOff",
        message: `back-off ${delay} restarting failed container=${spec.name} pod=${podDescription(pod)}`,
      };
      deps.events.record(
        asObject(pod),
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${spec.name} in pod ${podDescription(pod)}`,
      );
      return deps.memory.restarts.remainingMs(backoffKey, finished);
    }
    deps.memory.restarts.next(backoffKey, finished);
  }
  const attempt = nextAttempt(pod, spec, view);
  const outcome = await startContainer(deps, pod, spec, attempt, scope);
  if (outcome.started) {
    if (cur) view.previous = cur;
    view.current = outcome.started;
    view.restartCount = attempt;
    view.waiting = undefined;
  } else {
    view.waiting = outcome.waiting;
  }
  return outcome.retryMs;
}

/**
 * Stops a running container that must be replaced: a liveness/startup probe gave up on it, or
 * its spec changed (a new image). The exit event then brings the restart.
 */
function killIfNeeded(deps: AgentDeps, pod: Pod, spec: Container, cur: ContainerStatus): void {
  const startedWith = deps.memory.startedImage(cur.id);
  if (!deps.memory.killRequest(cur.id) && startedWith !== undefined && startedWith !== spec.image) {
    deps.memory.requestKill(cur.id, { kind: "definition", message: "" });
  }
  const request = deps.memory.killRequest(cur.id);
  if (!request || !deps.memory.beginStop(cur.id)) return;
  const why =
    request.kind === "definition"
      ? `Container ${spec.name} definition changed, will be restarted`
      : `Container ${spec.name} failed ${request.kind} probe, will be restarted`;
  deps.events.record(asObject(pod), "Normal", "Killing", why);
  const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  void stopWithHooks(deps, pod, cur, grace)
    .catch((e) => deps.log(`stopping container ${spec.name} of ${podDescription(pod)}: ${e}`))
    .finally(() => deps.memory.endStop(cur.id));
}

/** Keeps the current and previous attempt per container name (for logs --previous); removes older ones. */
async function pruneOldContainers(
  deps: AgentDeps,
  mine: ContainerStatus[],
  views: Map<string, ContainerView>,
): Promise<void> {
  const keep = new Set<string>();
  for (const v of views.values()) {
    if (v.current) keep.add(v.current.id);
    if (v.previous) keep.add(v.previous.id);
  }
  for (const c of mine) if (!keep.has(c.id) && c.state === "exited") await deps.runtime.removeContainer(c.id);
}
