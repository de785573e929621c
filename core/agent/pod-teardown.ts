import type { Pod } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { ContainerStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { asObject } from "./pod-names.ts";
import { sidecarGrace, sidecarsOf, stopSidecars } from "./sidecars.ts";

/**
 * Ending pods: graceful termination of a pod being deleted (stop its containers within the grace
 * period, release the sandbox, then remove the object), and tear-down of whatever the runtime
 * still runs for pods the store no longer has.
 */

/** Grace for containers of pods that are already gone from the store (at most). */
export const ORPHAN_GRACE_SECONDS = 2;

/**
 * The grace of a pod gone from the store (a grace-0 delete removes the object at once): as the
 * kubelet's effective grace period, the spec's terminationGracePeriodSeconds but never below 1 s
 * (SIGTERM first, always), and for minik never above ORPHAN_GRACE_SECONDS, since nothing is left
 * in the API to show a long termination. Unknown (pod never seen by this agent): the bound.
 */
export function orphanGraceSeconds(specGrace: number | undefined): number {
  if (specGrace === undefined) return ORPHAN_GRACE_SECONDS;
  return Math.min(ORPHAN_GRACE_SECONDS, Math.max(1, specGrace));
}

export async function terminatePod(deps: AgentDeps, pod: Pod, containers: ContainerStatus[]): Promise<void> {
  const uid = pod.metadata?.uid ?? "";
  const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  const live = containers.filter((c) => c.state !== "exited");
  for (const c of live)
    deps.events.record(asObject(pod), "Normal", "Killing", `Stopping container ${c.name}`);
  deps.probes.removePod(uid);
  // App containers first, all at once; then the sidecars, last declared first, with what is left.
  const sidecars = new Set(sidecarsOf(pod).map((c) => c.name));
  const began = deps.clock.now();
  await Promise.all(live.filter((c) => !sidecars.has(c.name)).map((c) => stopWithHooks(deps, pod, c, grace)));
  const newest = (spec: { name: string }) =>
    live.filter((c) => c.name === spec.name).sort((a, b) => b.attempt - a.attempt)[0];
  await stopSidecars(deps, pod, newest, sidecarGrace(grace, deps.clock.now() - began));
  await removeAll(deps, uid, containers);
  try {
    await deps.client.delete("pods", pod.metadata?.namespace ?? "default", pod.metadata?.name ?? "", {
      gracePeriodSeconds: 0,
      preconditions: { uid },
    });
  } catch (e) {
    // Already gone, or replaced by a new pod of the same name: nothing left to do.
    if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) throw e;
  }
}

/** Stops and removes everything the runtime holds for `uid` (a pod no longer in the store). */
export async function teardownPod(deps: AgentDeps, uid: string): Promise<void> {
  const containers = (await deps.runtime.listContainers()).filter((c) => c.podUid === uid);
  deps.probes.removePod(uid);
  const grace = orphanGraceSeconds(deps.memory.terminationGrace(uid));
  await Promise.all(
    containers.filter((c) => c.state !== "exited").map((c) => deps.runtime.stopContainer(c.id, grace)),
  );
  await removeAll(deps, uid, containers);
}

async function removeAll(deps: AgentDeps, uid: string, containers: ContainerStatus[]): Promise<void> {
  await deps.runtime.stopPodSandbox(uid);
  for (const c of containers) await deps.runtime.removeContainer(c.id);
  await deps.runtime.removePodSandbox(uid);
  deps.probes.removePod(uid);
  deps.memory.forget(
    uid,
    containers.map((c) => c.id),
  );
}

/**
 * Removes containers and sandboxes of pods not in `keep` (uids of this node's pods). The runtime
 * is listed by the caller *before* the store, so a pod created in between cannot be mistaken
 * for an orphan.
 */
export async function sweepOrphans(
  deps: AgentDeps,
  runtimeUids: Set<string>,
  keep: Set<string>,
): Promise<string[]> {
  const orphans = [...runtimeUids].filter((uid) => !keep.has(uid));
  for (const uid of orphans) {
    deps.log(`removing containers of pod ${uid}, which is no longer in the store`);
    await teardownPod(deps, uid);
  }
  return orphans;
}
