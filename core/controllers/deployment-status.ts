import type { DeploymentCondition, DeploymentStatus } from "kubernetes-types/apps/v1";
import { getCondition } from "../conditions.ts";
import { parseTime } from "../loop/clock.ts";
import { type Deploy, type RS, sumReplicas } from "./deployment-replicasets.ts";
import { omitZeros } from "./omit-empty.ts";
import { desiredReplicas, maxUnavailable } from "./rollout-math.ts";

/**
 * A Deployment's status computed from its ReplicaSets, and the Progressing/Available conditions
 * with Kubernetes' reasons, which `kubectl rollout status` and `describe` read.
 */
export const Reason = {
  NewReplicaSetCreated: "NewReplicaSetCreated",
  FoundNewReplicaSet: "FoundNewReplicaSet",
  ReplicaSetUpdated: "ReplicaSetUpdated",
  NewReplicaSetAvailable: "NewReplicaSetAvailable",
  ProgressDeadlineExceeded: "ProgressDeadlineExceeded",
  MinimumReplicasAvailable: "MinimumReplicasAvailable",
  MinimumReplicasUnavailable: "MinimumReplicasUnavailable",
  DeploymentPaused: "DeploymentPaused",
  DeploymentResumed: "DeploymentResumed",
} as const;

type Cond = DeploymentCondition;

/** Replaces the condition of `next.type`; times move as Kubernetes' SetDeploymentCondition does. */
export function setDeploymentCondition(status: DeploymentStatus, next: Cond, now: string): void {
  const list = status.conditions ?? [];
  const old = getCondition(list, next.type);
  // Same status and reason: nothing new to say (Kubernetes keeps the old condition).
  if (old && old.status === next.status && old.reason === next.reason) return;
  const cond: Cond = {
    ...next,
    lastUpdateTime: now,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : now,
  };
  status.conditions = [...list.filter((c) => c.type !== next.type), cond];
}

/** Status counts from the ReplicaSets, plus the Available condition. */
export function calculateStatus(d: Deploy, all: RS[], newRS: RS | undefined, now: string): DeploymentStatus {
  const available = sumReplicas(all, (rs) => rs.status?.availableReplicas ?? 0);
  const status: DeploymentStatus = omitZeros({
    observedGeneration: d.metadata.generation,
    replicas: sumReplicas(all, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sumReplicas(all, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumReplicas(all) - available),
    conditions: structuredClone(d.status?.conditions ?? []),
    ...(d.status?.collisionCount ? { collisionCount: d.status.collisionCount } : {}),
  });
  setDeploymentCondition(
    status,
    availableCondition(available >= desiredReplicas(d) - maxUnavailable(d)),
    now,
  );
  return status;
}

function availableCondition(ok: boolean): Cond {
  return ok
    ? {
        type: "Available",
        status: "True",
        reason: Reason.MinimumReplicasAvailable,
        message: "Deployment has minimum availability.",
      }
    : {
        type: "Available",
        status: "False",
        reason: Reason.MinimumReplicasUnavailable,
        message: "Deployment does not have minimum availability.",
      };
}

/** Every pod updated, available and no old ones left (Kubernetes' DeploymentComplete). */
export function isComplete(d: Deploy, s: DeploymentStatus): boolean {
  const want = desiredReplicas(d);
  return (
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** Some count moved the right way since the last status (Kubernetes' DeploymentProgressing). */
export function isProgressing(d: Deploy, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** Ms left before the progress deadline, from the Progressing condition's lastUpdateTime. */
export function msUntilDeadline(d: Deploy, s: DeploymentStatus, now: number): number | undefined {
  const deadline = d.spec?.progressDeadlineSeconds;
  if (deadline === undefined || deadline === null || deadline >= 2147483647) return undefined;
  const cond = getCondition(s.conditions, "Progressing");
  if (
    !cond ||
    cond.reason === Reason.NewReplicaSetAvailable ||
    cond.reason === Reason.ProgressDeadlineExceeded
  ) {
    return undefined;
  }
  const since = parseTime(cond.lastUpdateTime);
  if (Number.isNaN(since)) return undefined;
  return since + deadline * 1000 - now;
}

/**
 * The Progressing condition after this sync (Kubernetes' syncRolloutStatus): available when
 * complete, "is progressing" when a count moved, timed out when the deadline passed.
 */
export function updateProgressing(
  d: Deploy,
  s: DeploymentStatus,
  newRS: RS | undefined,
  now: number,
  nowText: string,
): void {
  if (d.spec?.progressDeadlineSeconds === undefined || d.spec.paused) return;
  const name = newRS?.metadata.name;
  const current = getCondition(s.conditions, "Progressing");
  if (isComplete(d, s)) {
    setDeploymentCondition(
      s,
      {
        type: "Progressing",
        status: "True",
        reason: Reason.NewReplicaSetAvailable,
        message: `ReplicaSet "${name}" has successfully progressed.`,
      },
      nowText,
    );
  } else if (isProgressing(d, s)) {
    const cond: Cond = {
      type: "Progressing",
      status: "True",
      reason: Reason.ReplicaSetUpdated,
      message: `ReplicaSet "${name}" is progressing.`,
    };
    if (current?.status === "True" && current.reason === Reason.ReplicaSetUpdated) {
      // Progress again: only the update time moves, which restarts the deadline.
      current.message = cond.message;
      current.lastUpdateTime = nowText;
    } else {
      setDeploymentCondition(s, cond, nowText);
    }
  } else if (
    current &&
    current.reason !== Reason.NewReplicaSetAvailable &&
    (msUntilDeadline(d, s, now) ?? 1) <= 0
  ) {
    setDeploymentCondition(
      s,
      {
        type: "Progressing",
        status: "False",
        reason: Reason.ProgressDeadlineExceeded,
        message: `ReplicaSet "${name}" has timed out progressing.`,
      },
      nowText,
    );
  }
}
