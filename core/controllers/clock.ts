/**
 * Time as the controllers see it. Injected so tests can move time forward (minReadySeconds,
 * progress deadlines, HPA stabilization) without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const realClock: Clock = { now: () => Date.now() };

/** RFC 3339 with whole seconds, as Kubernetes writes `metav1.Time`. */
export function timestamp(clock: Clock): string {
  return new Date(clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Milliseconds since the epoch of a `metav1.Time`; NaN when absent or unparsable. */
export function parseTime(value: string | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}
