/**
 * Per-key exponential back-off: the first step waits `initialMs`, each further one twice as long,
 * up to `maxMs`. With the defaults it is client-go's flowcontrol.Backoff as the kubelet uses it
 * for restarts and image pulls: 10 s doubling to 5 min, forgotten when the next event comes more
 * than twice the maximum (10 min) after the previous one — i.e. after 10 min of running. The work
 * queue's rate limiter is the same curve without that expiry (client-go's
 * ItemExponentialFailureRateLimiter), cleared only by `forget`.
 */
export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** False: a key keeps its step until `forget`, however long ago its last event was. */
  expires?: boolean;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly expires: boolean;

  constructor(
    private readonly now: () => number,
    options: BackoffOptions = {},
  ) {
    this.initialMs = options.initialMs ?? INITIAL_BACKOFF_MS;
    this.maxMs = options.maxMs ?? MAX_BACKOFF_MS;
    this.expires = options.expires ?? true;
  }

  private expired(eventTime: number, entry: Entry): boolean {
    return this.expires && eventTime - entry.lastUpdate > 2 * this.maxMs;
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

  /** Records an attempt at `eventTime`: first (or after expiry) the initial step, then doubling up to the max. */
  next(key: string, eventTime: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: eventTime });
      return;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxMs);
    entry.lastUpdate = eventTime;
  }

  /** Forgets one key: its next attempt starts from the initial step again. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (all keys of a pod: `<uid>/`). */
  forgetPrefix(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
