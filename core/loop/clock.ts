/**
 * Time as the control loops see it. Controllers (minReadySeconds, progress deadlines, HPA
 * stabilization) and the node agent (back-off, probes, resync) all read this one clock, so tests
 * can drive minutes of CrashLoopBackOff in milliseconds with a manual clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** RFC 3339 with whole seconds, as Kubernetes writes `metav1.Time`. */
export function kubeTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The clock's present moment as a `metav1.Time`. */
export function timestamp(clock: Pick<Clock, "now">): string {
  return kubeTime(clock.now());
}

/** Milliseconds since the epoch of a `metav1.Time`; NaN when absent or unparsable. */
export function parseTime(value: string | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}

/** Go's time.Duration.String() for whole seconds, as in kubelet messages: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
