import { Backoff } from "../loop/backoff.ts";
import type { ProbeKind } from "./probes.ts";

/** Why a running container must be replaced: a probe gave up on it, or its spec changed. */
export interface KillRequest {
  kind: ProbeKind | "definition";
  message: string;
}

/**
 * What the agent remembers about pods and containers between syncs, and may lose on restart:
 * back-off, pulled images, pending kills, stops under way, log tails, OOM kills, sandbox
 * failures and which pod uid runs under which name. Everything else is re-derived from the
 * store and the runtime on every sync. The one owner of this bookkeeping: the rest of the agent
 * changes it only through these verbs.
 */
export class PodMemory {
  /** Container restarts (CrashLoopBackOff), key `<podUid>/<container>`. */
  readonly restarts: Backoff;
  /** Image pulls (ImagePullBackOff), key `<podUid>/<image>`. */
  readonly pulls: Backoff;
  private readonly pulledImages = new Set<string>();
  private readonly killRequests = new Map<string, KillRequest>();
  private readonly startedImages = new Map<string, string>();
  private readonly stopping = new Set<string>();
  private readonly logMessages = new Map<string, string>();
  private readonly oomKilled = new Set<string>();
  private readonly sandboxFailures = new Map<string, number>();
  /** Pod key (`ns/name`) → uid of the pod the agent runs under that name. */
  private readonly tracked = new Map<string, string>();
  /** Pod uid → its spec's terminationGracePeriodSeconds, for a stop after the object is gone. */
  private readonly graces = new Map<string, number>();

  constructor(now: () => number) {
    this.restarts = new Backoff(now);
    this.pulls = new Backoff(now);
  }

  /** This agent pulled (or found) the image: later starts say "already present on machine". */
  imagePulled(image: string): void {
    this.pulledImages.add(image);
  }

  hasPulled(image: string): boolean {
    return this.pulledImages.has(image);
  }

  /** The spec image a container was started from (to notice `kubectl set image` on a pod). */
  containerStarted(containerId: string, image: string): void {
    this.startedImages.set(containerId, image);
  }

  startedImage(containerId: string): string | undefined {
    return this.startedImages.get(containerId);
  }

  /** Asks the next sync to replace a running container; the request stays until it is removed. */
  requestKill(containerId: string, request: KillRequest): void {
    this.killRequests.set(containerId, request);
  }

  killRequest(containerId: string): KillRequest | undefined {
    return this.killRequests.get(containerId);
  }

  /** Marks a stop begun; false when one is already under way (a stop may take the grace period). */
  beginStop(containerId: string): boolean {
    if (this.stopping.has(containerId)) return false;
    this.stopping.add(containerId);
    return true;
  }

  endStop(containerId: string): void {
    this.stopping.delete(containerId);
  }

  /** The log tail used as termination message (FallbackToLogsOnError), read once per container. */
  logMessage(containerId: string): string | undefined {
    return this.logMessages.get(containerId);
  }

  rememberLogMessage(containerId: string, message: string): void {
    this.logMessages.set(containerId, message);
  }

  /** The runtime reported the container OOM-killed (its exit reason says so later). */
  oomKill(containerId: string): void {
    this.oomKilled.add(containerId);
  }

  wasOomKilled(containerId: string): boolean {
    return this.oomKilled.has(containerId);
  }

  /** Counts a failed sandbox start; returns the consecutive failures, for a retry that backs off. */
  sandboxFailed(podUid: string): number {
    const failures = (this.sandboxFailures.get(podUid) ?? 0) + 1;
    this.sandboxFailures.set(podUid, failures);
    return failures;
  }

  sandboxStarted(podUid: string): void {
    this.sandboxFailures.delete(podUid);
  }

  /** The agent runs pod `podUid` under the key `ns/name` (with its spec's termination grace). */
  track(key: string, podUid: string, graceSeconds?: number): void {
    this.tracked.set(key, podUid);
    if (graceSeconds !== undefined) this.graces.set(podUid, graceSeconds);
  }

  /** The last seen spec.terminationGracePeriodSeconds of a pod, if the agent saw it. */
  terminationGrace(podUid: string): number | undefined {
    return this.graces.get(podUid);
  }

  untrack(key: string): void {
    this.tracked.delete(key);
  }

  trackedUid(key: string): string | undefined {
    return this.tracked.get(key);
  }

  isTracked(key: string): boolean {
    return this.tracked.has(key);
  }

  trackedUids(): string[] {
    return [...this.tracked.values()];
  }

  /** The key a pod uid runs under (runtime and probe events carry only the uid). */
  keyOf(podUid: string): string | undefined {
    for (const [key, uid] of this.tracked) if (uid === podUid) return key;
    return undefined;
  }

  /** Forgets a pod that is gone, and its containers. */
  forget(podUid: string, containerIds: Iterable<string>): void {
    this.restarts.forgetPrefix(`${podUid}/`);
    this.pulls.forgetPrefix(`${podUid}/`);
    this.sandboxFailures.delete(podUid);
    this.graces.delete(podUid);
    for (const id of containerIds) {
      this.killRequests.delete(id);
      this.startedImages.delete(id);
      this.logMessages.delete(id);
      this.oomKilled.delete(id);
    }
  }
}
