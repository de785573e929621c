import type { Container, Pod, PodStatus } from "kubernetes-types/core/v1";
import { type ContainerStatus, RuntimeError, type SandboxStatus } from "../../runtime/container-runtime.ts";
import type { KubeObject } from "../object.ts";
import { type AgentContext, asObject, podDescription } from "./agent-context.ts";
import { goDuration } from "./backoff.ts";
import { type StartScope, startContainer } from "./container-start.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { type ContainerView, computePodStatus, exitCodeOf, sameStatus } from "./pod-status.ts";
import { teardownPod, terminatePod } from "./pod-teardown.ts";
import { sandboxConfig } from "./sandbox.ts";

/**
 * One level-triggered reconcile of one pod: read the pod and what the runtime runs for it, take
 * the next step (sandbox, init containers in order, containers, restarts with back-off, probe
 * kills, termination), then write status if it changed. Safe to run any number of times.
 */
const SANDBOX_RETRY_MS = 10_000;

export async function syncPod(ctx: AgentContext, key: string): Promise<void> {
  const slash = key.indexOf("/");
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  let pod = await ctx.client.tryGet<Pod & KubeObject>("pods", namespace, name);
  const tracked = ctx.tracked.get(key);
  if (!pod || pod.spec?.nodeName !== ctx.nodeName) {
    if (tracked) {
      await teardownPod(ctx, tracked);
      ctx.tracked.delete(key);
    }
    return;
  }
  const uid = pod.metadata?.uid ?? "";
  if (tracked && tracked !== uid) await teardownPod(ctx, tracked);
  ctx.tracked.set(key, uid);

  let mine = (await ctx.runtime.listContainers()).filter((c) => c.podUid === uid).map((c) => withOom(ctx, c));
  // Syncs of one pod never overlap, so a container still "created" (or of unknown state) is the
  // leftover of a start that crashed half-way: remove it and start afresh.
  const stuck = mine.filter((c) => c.state === "created" || c.state === "unknown");
  for (const c of stuck) await ctx.runtime.removeContainer(c.id);
  if (stuck.length) mine = mine.filter((c) => !stuck.includes(c));
  if (pod.metadata?.deletionTimestamp) {
    await terminatePod(ctx, pod, mine);
    ctx.tracked.delete(key);
    return;
  }

  let sandbox = (await ctx.runtime.listPodSandboxes()).find((s) => s.podUid === uid);
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    await settleFinished(ctx, pod, mine, sandbox);
    return;
  }

  const deadline = activeDeadline(pod);
  if (deadline !== undefined && ctx.clock.now() >= deadline) {
    await failPastDeadline(ctx, pod, mine);
    return;
  }

  const views = new Map<string, ContainerView>();
  let retryMs: number | undefined;
  const retry = (ms: number | undefined) => {
    if (ms !== undefined) retryMs = Math.min(retryMs ?? ms, ms);
  };
  const podObj = asObject(pod);

  if (!sandbox?.ready) {
    try {
      sandbox = await ctx.runtime.runPodSandbox(sandboxConfig(pod, ctx.clusterDns, ctx.hostDns));
    } catch (e) {
      if (!(e instanceof RuntimeError)) throw e;
      ctx.events.record(
        podObj,
        "Warning",
        "FailedCreatePodSandBox",
        `Failed to create pod sandbox: ${e.message}`,
      );
      retry(SANDBOX_RETRY_MS);
      sandbox = undefined;
    }
  }

  const hostIP = await ctx.hostIP();
  const scope: StartScope = {
    placement: {
      podIP: sandbox?.ip,
      hostIP,
      nodeAllocatable: ctx.nodeAllocatable,
    },
  };
  const policy = pod.spec?.restartPolicy ?? "Always";

  if (!pod.status?.containerStatuses) {
    // First sight of the pod: show ContainerCreating and its IP before a possibly slow image pull.
    const first = new Map<string, ContainerView>();
    for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      first.set(spec.name, viewOf(pod, spec, mine));
    }
    pod = await writeStatus(
      ctx,
      pod,
      computePodStatus({
        pod,
        now: ctx.clock.now(),
        runtimeName: ctx.runtime.name,
        sandbox,
        hostIP,
        views: first,
      }),
    );
  }

  let initialized = true;
  for (const spec of pod.spec?.initContainers ?? []) {
    const view = viewOf(pod, spec, mine);
    views.set(spec.name, view);
    if (!initialized) continue;
    const cur = view.current;
    if (cur?.state === "exited" && exitCodeOf(cur) === 0 && (policy === "Never" || !predates(cur, sandbox)))
      continue;
    initialized = false;
    if (!sandbox?.ready || cur?.state === "running") continue;
    if (cur?.state === "exited" && policy === "Never") continue;
    retry(await ensureStarted(ctx, pod, spec, view, scope));
  }

  for (const spec of pod.spec?.containers ?? []) {
    const view = viewOf(pod, spec, mine);
    views.set(spec.name, view);
    if (!initialized || !sandbox?.ready) continue;
    const cur = view.current;
    if (cur && cur.state !== "exited") {
      killIfNeeded(ctx, pod, spec, cur);
      continue;
    }
    const changed = cur && ctx.killRequests.get(cur.id)?.kind === "definition";
    if (cur?.state === "exited" && !changed && !shouldRestart(policy, exitCodeOf(cur))) continue;
    retry(await ensureStarted(ctx, pod, spec, view, scope));
  }

  const running = new Map<string, ContainerStatus>();
  for (const spec of pod.spec?.containers ?? []) {
    const cur = views.get(spec.name)?.current;
    if (cur?.state === "running") running.set(spec.name, cur);
  }
  ctx.probes.sync(pod, running, sandbox?.ip);
  for (const spec of pod.spec?.containers ?? []) {
    const view = views.get(spec.name)!;
    const cur = view.current;
    if (cur?.state === "running") {
      view.started = ctx.probes.started(cur.id);
      view.ready = ctx.probes.ready(cur.id) && !ctx.killRequests.has(cur.id);
    }
  }

  await pruneOldContainers(ctx, mine, views);

  const status = computePodStatus({
    pod,
    now: ctx.clock.now(),
    runtimeName: ctx.runtime.name,
    sandbox,
    hostIP,
    views,
  });
  await writeStatus(ctx, pod, status);
  if (status.phase === "Succeeded" || status.phase === "Failed") {
    // A finished pod keeps its containers (for logs) but gives back its network.
    ctx.probes.removePod(uid);
    await ctx.runtime.stopPodSandbox(uid);
  } else {
    // startTime may have been set by this very sync.
    const ends = activeDeadline({ ...pod, status });
    if (ends !== undefined) retry(ends - ctx.clock.now());
    if (retryMs !== undefined) ctx.requeueAfter(key, retryMs);
  }
}

/** When spec.activeDeadlineSeconds runs out (counted from status.startTime), in epoch ms. */
function activeDeadline(pod: Pod): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  const start = pod.status?.startTime;
  if (seconds === undefined || !start) return undefined;
  return Date.parse(start) + seconds * 1000;
}

/** The pod outlived activeDeadlineSeconds: stop everything and fail it, as the kubelet does. */
async function failPastDeadline(
  ctx: AgentContext,
  pod: Pod & KubeObject,
  mine: ContainerStatus[],
): Promise<void> {
  const message = "Pod was active on the node longer than the specified deadline";
  ctx.events.record(asObject(pod), "Warning", "DeadlineExceeded", message);
  const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  await Promise.all(mine.filter((c) => c.state === "running").map((c) => stopWithHooks(ctx, pod, c, grace)));
  const failed = { ...pod, status: { ...pod.status, phase: "Failed", reason: "DeadlineExceeded", message } };
  await settleFinished(
    ctx,
    failed,
    mine,
    (await ctx.runtime.listPodSandboxes()).find((s) => s.podUid === pod.metadata.uid),
  );
  // settleFinished writes only when containers exist; the phase must be written regardless.
  const now = await ctx.client.get<Pod & KubeObject>(
    "pods",
    pod.metadata.namespace ?? "default",
    pod.metadata.name ?? "",
  );
  if (now.status?.phase !== "Failed")
    await writeStatus(ctx, now, { ...now.status, phase: "Failed", reason: "DeadlineExceeded", message });
}

/**
 * A container created before the pod's current sandbox ran in a sandbox that died (host reboot,
 * lost network namespace): the kubelet runs init containers again in the new one.
 */
function predates(c: ContainerStatus, sandbox: SandboxStatus | undefined): boolean {
  return sandbox !== undefined && Date.parse(c.createdAt) < Date.parse(sandbox.createdAt);
}

function shouldRestart(policy: string, exitCode: number): boolean {
  return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
}

/** The runtime's view of one container name: newest attempt, the one before, restart count. */
function viewOf(pod: Pod, spec: Container, mine: ContainerStatus[]): ContainerView {
  const attempts = mine.filter((c) => c.name === spec.name).sort((a, b) => b.attempt - a.attempt);
  const current = attempts[0];
  return {
    current,
    previous: attempts[1],
    restartCount: current ? current.attempt : storedRestartCount(pod, spec.name),
    ready: current?.state === "running",
    started: current?.state === "running",
  };
}

function storedStatus(pod: Pod, name: string) {
  const s = pod.status as PodStatus | undefined;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? [])].find((c) => c.name === name);
}

function storedRestartCount(pod: Pod, name: string): number {
  return storedStatus(pod, name)?.restartCount ?? 0;
}

/**
 * The attempt number for a new container. It continues from the runtime's newest attempt, or,
 * when the runtime has none (host reboot), from the stored status so restartCount never goes back.
 */
function nextAttempt(pod: Pod, spec: Container, view: ContainerView): number {
  if (view.current) return view.current.attempt + 1;
  const stored = storedStatus(pod, spec.name);
  if (!stored) return 0;
  return stored.containerID ? stored.restartCount + 1 : stored.restartCount;
}

/** Starts (or restarts, honouring CrashLoopBackOff) a container; returns when to retry. */
async function ensureStarted(
  ctx: AgentContext,
  pod: Pod,
  spec: Container,
  view: ContainerView,
  scope: StartScope,
): Promise<number | undefined> {
  const cur = view.current;
  if (cur?.state === "exited") {
    const backoffKey = `${pod.metadata?.uid}/${spec.name}`;
    const finished = Date.parse(cur.finishedAt ?? cur.startedAt ?? cur.createdAt);
    if (ctx.restartBackoff.isInBackoffSince(backoffKey, finished)) {
      const delay = goDuration(ctx.restartBackoff.get(backoffKey));
      view.waiting = {
        reason: "CrashLoopBackOff",
        message: `back-off ${delay} restarting failed container=${spec.name} pod=${podDescription(pod)}`,
      };
      ctx.events.record(
        asObject(pod),
        "Warning",
        "BackOff",
        `Back-off restarting failed container ${spec.name} in pod ${podDescription(pod)}`,
      );
      return ctx.restartBackoff.remainingMs(backoffKey, finished);
    }
    ctx.restartBackoff.next(backoffKey, finished);
  }
  const attempt = nextAttempt(pod, spec, view);
  const outcome = await startContainer(ctx, pod, spec, attempt, scope);
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
function killIfNeeded(ctx: AgentContext, pod: Pod, spec: Container, cur: ContainerStatus): void {
  const startedWith = ctx.startedImages.get(cur.id);
  if (!ctx.killRequests.has(cur.id) && startedWith !== undefined && startedWith !== spec.image) {
    ctx.killRequests.set(cur.id, { kind: "definition", message: "" });
  }
  const request = ctx.killRequests.get(cur.id);
  if (!request || ctx.stopping.has(cur.id)) return;
  ctx.stopping.add(cur.id);
  const why =
    request.kind === "definition"
      ? `Container ${spec.name} definition changed, will be restarted`
      : `Container ${spec.name} failed ${request.kind} probe, will be restarted`;
  ctx.events.record(asObject(pod), "Normal", "Killing", why);
  const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  void stopWithHooks(ctx, pod, cur, grace)
    .catch((e) => ctx.log(`stopping container ${spec.name} of ${podDescription(pod)}: ${e}`))
    .finally(() => ctx.stopping.delete(cur.id));
}

/** Keeps the current and previous attempt per container name (for logs --previous); removes older ones. */
async function pruneOldContainers(
  ctx: AgentContext,
  mine: ContainerStatus[],
  views: Map<string, ContainerView>,
): Promise<void> {
  const keep = new Set<string>();
  for (const v of views.values()) {
    if (v.current) keep.add(v.current.id);
    if (v.previous) keep.add(v.previous.id);
  }
  for (const c of mine) if (!keep.has(c.id) && c.state === "exited") await ctx.runtime.removeContainer(c.id);
}

/** A finished pod: make sure nothing runs, and report how its containers ended. */
async function settleFinished(
  ctx: AgentContext,
  pod: Pod & KubeObject,
  mine: ContainerStatus[],
  sandbox: SandboxStatus | undefined,
): Promise<void> {
  const uid = pod.metadata?.uid ?? "";
  for (const c of mine)
    if (c.state !== "exited")
      await ctx.runtime.stopContainer(c.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
  if (sandbox?.ready) await ctx.runtime.stopPodSandbox(uid);
  ctx.probes.removePod(uid);
  if (mine.length === 0) return;
  const fresh = (await ctx.runtime.listContainers())
    .filter((c) => c.podUid === uid)
    .map((c) => withOom(ctx, c));
  const views = new Map<string, ContainerView>();
  for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const view = viewOf(pod, spec, fresh);
    view.ready = false;
    views.set(spec.name, view);
  }
  const status = computePodStatus({
    pod,
    now: ctx.clock.now(),
    runtimeName: ctx.runtime.name,
    sandbox: undefined,
    hostIP: await ctx.hostIP(),
    views,
  });
  await writeStatus(ctx, pod, status);
}

async function writeStatus<P extends Pod & KubeObject>(
  ctx: AgentContext,
  pod: P,
  status: PodStatus,
): Promise<P> {
  if (sameStatus(pod.status, status)) return pod;
  return ctx.client.updateStatus<P>("pods", { ...pod, status });
}

function withOom(ctx: AgentContext, c: ContainerStatus): ContainerStatus {
  return c.state === "exited" && ctx.oomKilled.has(c.id) ? { ...c, reason: "OOMKilled" } : c;
}
