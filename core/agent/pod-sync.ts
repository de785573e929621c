import type { Container, Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { type ContainerStatus, RuntimeError, type SandboxStatus } from "../seams/container-runtime.ts";
import { type AgentContext, asObject, podDescription } from "./agent-context.ts";
import { goDuration } from "./backoff.ts";
import { pullPolicyOf, type StartScope, startContainer } from "./container-start.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { activeDeadline, failPastDeadline, settleFinished } from "./pod-finish.ts";
import { type ContainerView, computePodStatus, exitCodeOf } from "./pod-status.ts";
import { teardownPod, terminatePod } from "./pod-teardown.ts";
import { addLogMessages, nextAttempt, viewOf, withOom, writeStatus } from "./pod-views.ts";
import { sandboxConfig } from "./sandbox.ts";

/**
 * One level-triggered reconcile of one pod: read the pod and what the runtime runs for it, take
 * the next step (sandbox, init containers in order, containers, restarts with back-off, probe
 * kills, termination), then write status if it changed. Safe to run any number of times.
 */
/** Sandbox retries: 200 ms, doubling to 10 s (a transient failure should not cost seconds). */
const SANDBOX_RETRY_FIRST_MS = 200;
const SANDBOX_RETRY_MAX_MS = 10_000;

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
      ctx.sandboxFailures.delete(pod.metadata?.uid ?? "");
    } catch (e) {
      if (!(e instanceof RuntimeError)) throw e;
      ctx.events.record(
        podObj,
        "Warning",
        "FailedCreatePodSandBox",
        `Failed to create pod sandbox: ${e.message}`,
      );
      const uid = pod.metadata?.uid ?? "";
      const failures = (ctx.sandboxFailures.get(uid) ?? 0) + 1;
      ctx.sandboxFailures.set(uid, failures);
      retry(Math.min(SANDBOX_RETRY_MAX_MS, SANDBOX_RETRY_FIRST_MS * 2 ** (failures - 1)));
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

  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const mayPull = specs.some((c) => pullPolicyOf(c) === "Always" || !ctx.pulledImages.has(c.image ?? ""));
  if (!pod.status?.containerStatuses && mayPull) {
    // First sight of the pod: show ContainerCreating and its IP before a possibly slow image pull
    // (skipped when every image is known here: the start is quick and one write is enough).
    const first = new Map<string, ContainerView>();
    for (const spec of specs) {
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
  await addLogMessages(ctx, pod, views);

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
