import type { Container, Pod, PodStatus } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import type { ContainerStatus } from "../seams/container-runtime.ts";
import type { AgentDeps } from "./agent-deps.ts";
import { type ContainerView, sameStatus } from "./pod-status.ts";

/**
 * How one pod looks from the runtime's side — per container name the newest attempt, the one
 * before and the restart count (continued from the stored status when the runtime lost them) —
 * and writing the computed status back only when it changed.
 */

/** The runtime's view of one container name: newest attempt, the one before, restart count. */
export function viewOf(pod: Pod, spec: Container, mine: ContainerStatus[]): ContainerView {
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
export function nextAttempt(pod: Pod, spec: Container, view: ContainerView): number {
  if (view.current) return view.current.attempt + 1;
  const stored = storedStatus(pod, spec.name);
  if (!stored) return 0;
  return stored.containerID ? stored.restartCount + 1 : stored.restartCount;
}

export async function writeStatus<P extends Pod & KubeObject>(
  deps: AgentDeps,
  pod: P,
  status: PodStatus,
): Promise<P> {
  if (sameStatus(pod.status, status)) return pod;
  return deps.client.updateStatus<P>("pods", { ...pod, status });
}

export function withOom(deps: AgentDeps, c: ContainerStatus): ContainerStatus {
  return c.state === "exited" && deps.memory.wasOomKilled(c.id) ? { ...c, reason: "OOMKilled" } : c;
}

const MESSAGE_LINES = 80;
const MESSAGE_BYTES = 2048;

/**
 * terminationMessagePolicy FallbackToLogsOnError: a container that failed without writing a
 * termination message reports the tail of its log instead (80 lines, 2 KiB), read once per
 * container and remembered.
 */
export async function addLogMessages(
  deps: AgentDeps,
  pod: Pod,
  views: Map<string, ContainerView>,
): Promise<void> {
  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const spec of specs) {
    if (spec.terminationMessagePolicy !== "FallbackToLogsOnError") continue;
    const view = views.get(spec.name);
    for (const key of ["current", "previous"] as const) {
      const c = view?.[key];
      if (c?.state !== "exited" || c.exitCode === 0 || c.message) continue;
      let message = deps.memory.logMessage(c.id);
      if (message === undefined) {
        const text = await new Response(deps.runtime.logs(c.id, { tailLines: MESSAGE_LINES }))
          .text()
          .catch(() => "");
        message = new TextDecoder().decode(new TextEncoder().encode(text).slice(-MESSAGE_BYTES));
        deps.memory.rememberLogMessage(c.id, message);
      }
      if (message) view![key] = { ...c, message };
    }
  }
}
