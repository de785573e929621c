import type { Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import type { ContainerStatus, SandboxStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { asObject } from "./pod-names.ts";
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
  deps: AgentDeps,
  pod: Pod & KubeObject,
  mine: ContainerStatus[],
): Promise<void> {
  const message = "Pod was active on the node longer than the specified deadline";
  deps.events.record(asObject(pod), "Warning", "DeadlineExceeded", message);
  const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  await Promise.all(mine.filter((c) => c.state === "running").map((c) => stopWithHooks(deps, pod, c, grace)));
  const failed = { ...pod, status: { ...pod.status, phase: "Failed", reason: "DeadlineExceeded", message } };
  await settleFinished(
    deps,
    failed,
    mine,
    (await deps.runtime.listPodSandboxes()).find((s) => s.podUid === pod.metadata.uid),
  );
  // settleFinished writes only when containers exist; the phase must be written regardless.
  const now = await deps.client.get<Pod & KubeObject>(
    "pods",
    pod.metadata.namespace ?? "default",
    pod.metadata.name ?? "",
  );
  if (now.status?.phase !== "Failed")
    await writeStatus(deps, now, { ...now.status, phase: "Failed", reason: "DeadlineExceeded", message });
}

/** A finished pod: make sure nothing runs, and report how its containers ended. */
export async function settleFinished(
  deps: AgentDeps,
  pod: Pod & KubeObject,
  mine: ContainerStatus[],
  sandbox: SandboxStatus | undefined,
): Promise<void> {
  const uid = pod.metadata?.uid ?? "";
  for (const c of mine)
    if (c.state !== "exited")
      await deps.runtime.stopContainer(c.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
  if (sandbox?.ready) await deps.runtime.stopPodSandbox(uid);
  deps.probes.removePod(uid);
  if (mine.length === 0) return;
  const fresh = (await deps.runtime.listContainers())
    .filter((c) => c.podUid === uid)
    .map((c) => withOom(deps, c));
  const views = new Map<string, ContainerView>();
  for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const view = viewOf(pod, spec, fresh);
    view.ready = false;
    views.set(spec.name, view);
  }
  await addLogMessages(deps, pod, views);
  const status = computePodStatus({
    pod,
    now: deps.clock.now(),
    runtimeName: deps.runtime.name,
    sandbox: undefined,
    hostIP: await deps.hostIP(),
    views,
  });
  await writeStatus(deps, pod, status);
}
