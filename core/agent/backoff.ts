/**
 * Kubernetes' per-key exponential back-off (client-go flowcontrol.Backoff as the kubelet uses it
 * for restarts and image pulls): 10 s doubling to 5 min, forgotten when the next event comes more
 * than twice the maximum (10 min) after the previous one — i.e. after 10 min of running.
 */
export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number,
    private readonly initialMs = INITIAL_BACKOFF_MS,
    private readonly maxMs = MAX_BACKOFF_MS,
  ) {}

  private expired(eventTime: number, entry: Entry): boolean {
    return eventTime - entry.lastUpdate > 2 * this.maxMs;
  }

  /** Current back-off of `key` (0 when none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** True while less than the current back-off has passed since `eventTime` (e.g. the last exit). */
  isInBackoffSince(key: string, eventTime: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) return false;
    return this.now() - eventTime < entry.backoffMs;
  }

  /** Milliseconds until the back-off since `eventTime` ends (0 when not in back-off). */
  remainingMs(key: string, eventTime: number): number {
    if (!this.isInBackoffSince(key, eventTime)) return 0;
    return eventTime + this.get(key) - this.now();
  }

  /** Milliseconds left of the back-off counted from the last recorded attempt (image pulls). */
  remainingSinceUpdate(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return Math.max(0, entry.lastUpdate + entry.backoffMs - this.now());
  }

  /** Records an attempt at `eventTime`: first (or after expiry) 10 s, then doubling up to the max. */
  next(key: string, eventTime: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: eventTime });
      return;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxMs);
    entry.lastUpdate = eventTime;
  }

  /** Forgets every key starting with `prefix` (a pod uid). */
  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
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
