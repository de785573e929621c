import type { Container, Pod } from "kubernetes-types/core/v1";
import type { ContainerStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { runHandler } from "./handlers.ts";
import { asObject } from "./pod-names.ts";

/**
 * Container lifecycle hooks. postStart runs right after the container started (a failure kills
 * it, and the restart policy decides what next); preStop runs before every stop the agent makes
 * and its time counts against the grace period, leaving the kill at least 2 s as the kubelet does.
 */
const MIN_GRACE_AFTER_PRESTOP = 2;
/** The kubelet gives postStart no deadline of its own; minik bounds it. */
const POST_START_TIMEOUT_MS = 120_000;

function specOf(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/** Runs postStart; false (container being stopped, FailedPostStartHook recorded) when it failed. */
export async function runPostStart(
  deps: AgentDeps,
  pod: Pod,
  spec: Container,
  started: ContainerStatus,
  podIP?: string,
): Promise<boolean> {
  const hook = spec.lifecycle?.postStart;
  if (!hook) return true;
  const result = await runHandler(
    deps,
    { containerId: started.id, spec, podIP },
    hook,
    POST_START_TIMEOUT_MS,
  );
  if (result.ok) return true;
  deps.events.record(
    asObject(pod),
    "Warning",
    "FailedPostStartHook",
    `PostStartHook failed: ${result.message}`,
  );
  await deps.runtime.stopContainer(started.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
  return false;
}

/** Stops a container the kubelet way: preStop first (within the grace period), then TERM/KILL. */
export async function stopWithHooks(
  deps: AgentDeps,
  pod: Pod,
  c: ContainerStatus,
  graceSeconds: number,
): Promise<void> {
  const spec = specOf(pod, c.name);
  const hook = spec?.lifecycle?.preStop;
  let grace = graceSeconds;
  if (hook && spec && c.state === "running" && graceSeconds > 0) {
    const began = deps.clock.now();
    const result = await runHandler(
      deps,
      { containerId: c.id, spec, podIP: pod.status?.podIP },
      hook,
      graceSeconds * 1000,
    );
    if (!result.ok) {
      deps.events.record(
        asObject(pod),
        "Warning",
        "FailedPreStopHook",
        `PreStopHook failed: ${result.message}`,
      );
    }
    const spent = Math.ceil((deps.clock.now() - began) / 1000);
    grace = Math.max(MIN_GRACE_AFTER_PRESTOP, graceSeconds - spent);
  }
  await deps.runtime.stopContainer(c.id, grace);
}
