/**
 * The HorizontalPodAutoscaler's arithmetic (Kubernetes' replica_calculator.go, simplified):
 * scale by usage/target, not at all within the 10 % tolerance, and with missing or unready pods
 * counted pessimistically so they never cause a swing in the wrong direction.
 */
export const TOLERANCE = 0.1;

export interface PodSample {
  /** Sum of the containers' CPU requests, millicores. */
  requestMillis: number;
  /** Measured usage, millicores; undefined when the pod has no metrics yet. */
  usageMillis?: number;
  ready: boolean;
}

export interface Proposal {
  replicas: number;
  /** Average usage over ready pods with metrics, as % of request. */
  utilization: number;
  averageMillis: number;
}

/**
 * Desired replicas for a CPU target: `targetUtilization` is a percentage of requests, or
 * `targetAverageMillis` an absolute per-pod average. Throws when no pod has usable metrics.
 */
export function cpuProposal(
  current: number,
  pods: PodSample[],
  target: { utilization?: number; averageMillis?: number },
): Proposal {
  const measured = pods.filter((p) => p.ready && p.usageMillis !== undefined);
  if (!measured.length) throw new Error("did not receive metrics for targeted pods (pods might be unready)");
  const usage = measured.reduce((n, p) => n + p.usageMillis!, 0);
  const requests = measured.reduce((n, p) => n + p.requestMillis, 0);
  const utilization = requests > 0 ? Math.trunc((usage * 100) / requests) : 0;
  const averageMillis = Math.round(usage / measured.length);
  const ratioOf = (u: number, r: number, n: number) =>
    target.utilization !== undefined
      ? (r > 0 ? (u * 100) / r : 0) / target.utilization
      : u / n / target.averageMillis!;
  const ratio =
    target.utilization !== undefined
      ? utilization / target.utilization
      : ratioOf(usage, requests, measured.length);
  const missing = pods.filter((p) => p.usageMillis === undefined);
  const unready = pods.filter((p) => !p.ready && p.usageMillis !== undefined);
  const result = (replicas: number) => ({ replicas, utilization, averageMillis });

  if (!missing.length && !unready.length) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return result(current);
    return result(Math.ceil(ratio * measured.length));
  }
  // Assume the worst for pods we cannot judge: when scaling down, missing pods use all their
  // request; when scaling up, missing and unready pods use nothing.
  let u = usage;
  let r = requests;
  let n = measured.length;
  if (ratio < 1) {
    for (const p of missing) {
      u += p.requestMillis;
      r += p.requestMillis;
      n++;
    }
  } else {
    for (const p of [...missing, ...unready]) {
      r += p.requestMillis;
      n++;
    }
  }
  const newRatio = ratioOf(u, r, n);
  if (Math.abs(1 - newRatio) <= TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1))
    return result(current);
  const replicas = Math.ceil(newRatio * n);
  if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) return result(current);
  return result(replicas);
}

export interface Recommendation {
  at: number;
  replicas: number;
}

/**
 * Kubernetes' stabilizeRecommendationWithBehaviors: within the scale-down window keep the highest
 * recent recommendation, within the scale-up window the lowest.
 */
export function stabilize(
  current: number,
  desired: number,
  history: Recommendation[],
  now: number,
  upWindowMs: number,
  downWindowMs: number,
): number {
  let up = desired;
  let down = desired;
  for (const rec of history) {
    if (rec.at > now - upWindowMs) up = Math.min(up, rec.replicas);
    if (rec.at > now - downWindowMs) down = Math.max(down, rec.replicas);
  }
  let recommendation = current;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  return recommendation;
}

/** Default scale-up rate: at most double, or +4, per period (whichever is more). */
export function scaleUpLimit(current: number): number {
  return Math.max(current * 2, current + 4);
}
