import type { Clock } from "../loop/clock.ts";

/**
 * The node's own health, as the kubelet's runtime and network checks feed its Ready condition:
 * named checks (the container runtime answers, the pod network's bridge exists) run every
 * `intervalMs`; the node turns NotReady only after `failureThreshold` failed rounds in a row, and
 * Ready again at the first good round. Slow by default (10 s × 3), so a hiccup never taints the node.
 */
export type HealthCheck = () => Promise<void>;

export interface NodeHealthStatus {
  ready: boolean;
  /** Why it is not ready: the failing checks and their errors. */
  message?: string;
}

export interface NodeHealth {
  status(): NodeHealthStatus;
  /** Runs every check once now (the first round runs at start). */
  probe(): Promise<NodeHealthStatus>;
  stop(): void;
}

export function createNodeHealth(options: {
  checks: Record<string, HealthCheck>;
  clock: Clock;
  intervalMs?: number;
  failureThreshold?: number;
  /** Told of every change of readiness. */
  onChange?: (status: NodeHealthStatus) => void;
}): NodeHealth {
  const { checks, clock, intervalMs = 10_000, failureThreshold = 3 } = options;
  let failures = 0;
  let current: NodeHealthStatus = { ready: true };
  let timer: unknown;
  let stopped = false;

  async function probe(): Promise<NodeHealthStatus> {
    const problems: string[] = [];
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check();
      } catch (e) {
        problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    failures = problems.length ? failures + 1 : 0;
    const next: NodeHealthStatus =
      failures >= failureThreshold
        ? {
            ready: false,
            message: `node health checks failing ${failures} times in a row: ${problems.join("; ")}`,
          }
        : { ready: true };
    if (next.ready !== current.ready) options.onChange?.(next);
    current = next;
    return current;
  }

  const schedule = () => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      void probe().finally(schedule);
    }, intervalMs);
  };
  void probe().finally(schedule);

  return {
    status: () => current,
    probe,
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
