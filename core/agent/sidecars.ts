import type { Container, Pod } from "kubernetes-types/core/v1";
import type { ContainerStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { stopWithHooks } from "./lifecycle.ts";
import { podDescription } from "./pod-names.ts";
import { type ContainerView, exitCodeOf, isSidecar } from "./pod-status.ts";

/**
 * Native sidecars (Kubernetes 1.29+): init containers with `restartPolicy: Always`. They start in
 * the init sequence (the next one waits until the sidecar is started, i.e. its startupProbe
 * passed), run beside the app containers and are restarted whatever the pod's restartPolicy;
 * once every app container has finished for good they are stopped, last one first, so they
 * never keep a Job's pod from completing; on deletion they stop after the app containers.
 */

/** The kubelet gives sidecars at least this long after the app containers used up the grace. */
const MIN_SIDECAR_GRACE_SECONDS = 2;

export function sidecarsOf(pod: Pod): Container[] {
  return (pod.spec?.initContainers ?? []).filter(isSidecar);
}

/** Whether a container exited with `exitCode` is started again under the pod's restartPolicy. */
export function shouldRestart(policy: string, exitCode: number): boolean {
  return policy === "Always" || (policy === "OnFailure" && exitCode !== 0);
}

/**
 * Every app container has exited and none will be restarted (restartPolicy Never, or OnFailure
 * with all of them successful): the pod is done but for its sidecars.
 */
export function appsFinished(pod: Pod, views: Map<string, ContainerView>): boolean {
  const policy = pod.spec?.restartPolicy ?? "Always";
  if (policy === "Always") return false;
  return (pod.spec?.containers ?? []).every((spec) => {
    const cur = views.get(spec.name)?.current;
    return cur?.state === "exited" && !shouldRestart(policy, exitCodeOf(cur));
  });
}

/** Stops the running sidecars one after the other, the last declared first. */
export async function stopSidecars(
  deps: AgentDeps,
  pod: Pod,
  running: (spec: Container) => ContainerStatus | undefined,
  graceSeconds: number,
): Promise<void> {
  for (const spec of sidecarsOf(pod).reverse()) {
    const cur = running(spec);
    if (cur?.state !== "running" || !deps.memory.beginStop(cur.id)) continue;
    try {
      await stopWithHooks(deps, pod, cur, graceSeconds);
    } catch (e) {
      deps.log(`stopping sidecar ${spec.name} of ${podDescription(pod)}: ${e}`);
    } finally {
      deps.memory.endStop(cur.id);
    }
  }
}

/** What is left of the grace period for the sidecars once the app containers have stopped. */
export function sidecarGrace(graceSeconds: number, spentMs: number): number {
  if (graceSeconds <= 0) return 0;
  return Math.max(MIN_SIDECAR_GRACE_SECONDS, Math.ceil(graceSeconds - spentMs / 1000));
}
