import type { ContainerStatus, Pod } from "kubernetes-types/core/v1";
import type { KubeObject } from "../../object.ts";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

/** kubectl's pod columns; STATUS follows `printPod` in kubernetes/pkg/printers/internalversion. */
export const podPrinter: Printer = {
  columns: [
    nameColumn,
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    ageColumn,
    column(
      "IP",
      "string",
      "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
      1,
    ),
    column("Node", "string", "NodeName is a request to schedule this pod onto a specific node.", 1),
    column(
      "Nominated Node",
      "string",
      "nominatedNodeName is set only when this pod preempts other pods on the node.",
      1,
    ),
    column(
      "Readiness Gates",
      "string",
      "If specified, all readiness gates will be evaluated for pod readiness.",
      1,
    ),
  ],
  cells(obj, now) {
    const pod = obj as unknown as Pod;
    const s = podStatus(pod, now);
    const gates = pod.spec?.readinessGates ?? [];
    const gateText = gates.length
      ? `${gates.filter((g) => pod.status?.conditions?.some((c) => c.type === g.conditionType && c.status === "True")).length}/${gates.length}`
      : "<none>";
    return [
      pod.metadata?.name,
      `${s.ready}/${s.total}`,
      s.reason,
      s.restarts,
      since(pod.metadata?.creationTimestamp, now),
      pod.status?.podIP || "<none>",
      pod.spec?.nodeName || "<none>",
      pod.status?.nominatedNodeName || "<none>",
      gateText,
    ];
  },
  conditions(obj: KubeObject) {
    const phase = (obj as unknown as Pod).status?.phase;
    return phase === "Succeeded" || phase === "Failed" ? [{ type: "Completed", status: "True" }] : undefined;
  },
};

/**
 * READY count (of app containers and native sidecars), STATUS reason and RESTARTS text of a pod,
 * as kubectl's printPod computes them.
 */
export function podStatus(
  pod: Pod,
  now: number,
): { ready: number; total: number; reason: string; restarts: string } {
  let restarts = 0;
  let lastRestart = 0;
  let ready = 0;
  // Sidecars (restartPolicy: Always init containers) run beside the app: READY counts them, and
  // once the pod is initialized RESTARTS counts theirs and the app containers' only.
  const sidecars = new Set(
    (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name),
  );
  const total = (pod.spec?.containers?.length ?? 0) + sidecars.size;
  let sidecarRestarts = 0;
  let sidecarLastRestart = 0;
  let reason = pod.status?.reason || pod.status?.phase || "Pending";
  const noteLastState = (c: ContainerStatus) => {
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  };
  let initializing = false;
  const inits = pod.status?.initContainerStatuses ?? [];
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount ?? 0;
    noteLastState(c);
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (sidecars.has(c.name)) {
      sidecarRestarts += c.restartCount ?? 0;
      const finished = c.lastState?.terminated?.finishedAt;
      if (finished) sidecarLastRestart = Math.max(sidecarLastRestart, Date.parse(finished));
    }
    if (term && term.exitCode === 0) continue;
    if (sidecars.has(c.name) && c.started) {
      if (c.ready) ready++;
      continue;
    }
    initializing = true;
    if (term)
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode}`;
    else if (wait?.reason && wait.reason !== "PodInitializing") reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${pod.spec?.initContainers?.length ?? inits.length}`;
    break;
  }
  const initialized = pod.status?.conditions?.some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = sidecarLastRestart;
    let hasRunning = false;
    const statuses = pod.status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount ?? 0;
      noteLastState(c);
      const term = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? "Running"
        : "NotReady";
    }
  }
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
  const restartText =
    restarts !== 0 && lastRestart > 0
      ? `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)`
      : String(restarts);
  return { ready, total, reason, restarts: restartText };
}
