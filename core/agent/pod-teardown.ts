import type { Pod } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { ContainerStatus } from "../seams/container-runtime.ts";
import { type AgentContext, asObject, forgetPod } from "./agent-context.ts";
import { stopWithHooks } from "./lifecycle.ts";

/**
 * Ending pods: graceful termination of a pod being deleted (stop its containers within the grace
 * period, release the sandbox, then remove the object), and tear-down of whatever the runtime
 * still runs for pods the store no longer has.
 */

/** Grace for containers of pods that are already gone from the store. */
export const ORPHAN_GRACE_SECONDS = 2;

export async function terminatePod(
  ctx: AgentContext,
  pod: Pod,
  containers: ContainerStatus[],
): Promise<void> {
  const uid = pod.metadata?.uid ?? "";
  const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  const live = containers.filter((c) => c.state !== "exited");
  for (const c of live) ctx.events.record(asObject(pod), "Normal", "Killing", `Stopping container ${c.name}`);
  ctx.probes.removePod(uid);
  await Promise.all(live.map((c) => stopWithHooks(ctx, pod, c, grace)));
  await removeAll(ctx, uid, containers);
  try {
    await ctx.client.delete("pods", pod.metadata?.namespace ?? "default", pod.metadata?.name ?? "", {
      gracePeriodSeconds: 0,
      preconditions: { uid },
    });
  } catch (e) {
    // Already gone, or replaced by a new pod of the same name: nothing left to do.
    if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
  }
}

/** Stops and removes everything the runtime holds for `uid` (a pod no longer in the store). */
export async function teardownPod(ctx: AgentContext, uid: string): Promise<void> {
  const containers = (await ctx.runtime.listContainers()).filter((c) => c.podUid === uid);
  ctx.probes.removePod(uid);
  await Promise.all(
    containers
      .filter((c) => c.state !== "exited")
      .map((c) => ctx.runtime.stopContainer(c.id, ORPHAN_GRACE_SECONDS)),
  );
  await removeAll(ctx, uid, containers);
}

async function removeAll(ctx: AgentContext, uid: string, containers: ContainerStatus[]): Promise<void> {
  await ctx.runtime.stopPodSandbox(uid);
  for (const c of containers) await ctx.runtime.removeContainer(c.id);
  await ctx.runtime.removePodSandbox(uid);
  forgetPod(ctx, uid);
  for (const c of containers) {
    ctx.killRequests.delete(c.id);
    ctx.startedImages.delete(c.id);
    ctx.logMessages.delete(c.id);
    ctx.oomKilled.delete(c.id);
  }
}

/**
 * Removes containers and sandboxes of pods not in `keep` (uids of this node's pods). The runtime
 * is listed by the caller *before* the store, so a pod created in between cannot be mistaken
 * for an orphan.
 */
export async function sweepOrphans(
  ctx: AgentContext,
  runtimeUids: Set<string>,
  keep: Set<string>,
): Promise<string[]> {
  const orphans = [...runtimeUids].filter((uid) => !keep.has(uid));
  for (const uid of orphans) {
    ctx.log(`removing containers of pod ${uid}, which is no longer in the store`);
    await teardownPod(ctx, uid);
  }
  return orphans;
}
