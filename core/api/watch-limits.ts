import { ApiError } from "../errors.ts";

/**
 * Bounds on one watch: how many bytes may wait unsent for a client that stopped reading (then the
 * watch is closed, and the client re-lists or resumes from its last resourceVersion, as with
 * kube-apiserver), and how long any watch lives — kube-apiserver's --min-request-timeout of
 * 1800 s, stretched by a random factor in [1, 2) so that clients do not all reconnect at once.
 */
export const WATCH_BUFFER_BYTES = 8 * 1024 * 1024;
export const MIN_WATCH_LIFETIME_SECONDS = 1800;

/** `timeoutSeconds` as a whole number of seconds ≥ 0; anything else is a 400. */
export function parseTimeoutSeconds(value: string | null): number | undefined {
  if (value === null || value === "") return undefined;
  if (!/^\d{1,10}$/.test(value)) {
    throw new ApiError(
      "BadRequest",
      `invalid timeoutSeconds "${value.slice(0, 40)}": use a whole number of seconds, 0 or more`,
    );
  }
  return Number(value);
}

/** How long this watch may stay open: the client's timeout, never beyond the jittered maximum. */
export function watchLifetimeMs(
  timeoutSeconds: number | undefined,
  minLifetimeSeconds = MIN_WATCH_LIFETIME_SECONDS,
  random: () => number = Math.random,
): number {
  const max = minLifetimeSeconds * (1 + random()) * 1000;
  return timeoutSeconds && timeoutSeconds > 0 ? Math.min(timeoutSeconds * 1000, max) : max;
}
