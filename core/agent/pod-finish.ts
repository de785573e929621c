import type { Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import type { ContainerStatus, SandboxStatus } from "../seams/container-runtime.ts";
import { type AgentContext, asObject } from "./agent-context.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { type ContainerView, computePodStatus } from "./pod-status.ts";
import { addLogMessages, viewOf, withOom, writeStatus } from "./pod-views.ts";

/**
 * Pods that are done: Succeeded/Failed ones keep their exited containers (for logs) but run
 * nothing and hold no network; a pod past activeDeadlineSeconds is stopped and failed.
 */

/** When spec.activeDeadlineSeconds runs out (counted from status.startTime), in epoch ms. */
export function activeDeadline(pod: Pod): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  const start = pod.status?.startTime;
  if (seconds === undefined || !start) return undefined;
  return Date.parse(start) + seconds * 1000;
}

/** The pod outlived activeDeadlineSeconds: stop everything and fail it, as the kubelet does. */
export async function failPastDeadline(
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

/** A finished pod: make sure nothing runs, and report how its containers ended. */
export async function settleFinished(
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
  await addLogMessages(ctx, pod, views);
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
