import type { Pod, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { Clock } from "../loop/clock.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { ContainerRuntime } from "../seams/container-runtime.ts";

/** How often the agent looks for tokens due for renewal. */
const CHECK_MS = 60_000;
const DEFAULT_EXPIRATION_SECONDS = 3600;
/** As the kubelet: renew at 80 % of a token's life, and at least daily. */
const RENEW_AT = 0.8;
const MAX_AGE_MS = 24 * 3600_000;

export interface TokenRefresher {
  start(): void;
  stop(): void;
  /** One pass: renews every projected token that is due; returns how many volumes were rewritten. */
  refreshDue(): Promise<number>;
}

/**
 * Keeps projected service-account tokens fresh in running pods, as the kubelet does: a token
 * volume written when the container started is rewritten in place (through the runtime) once 80 %
 * of the token's lifetime has passed. After a restart of minik every token is renewed once.
 */
export function createTokenRefresher(options: {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  clock: Clock;
  log: (message: string) => void;
  tokenFor?: (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string>;
}): TokenRefresher {
  const { client, runtime, nodeName, clock, log, tokenFor } = options;
  /** When each `podUid/volume` got its tokens. */
  const written = new Map<string, number>();
  let timer: unknown;
  let stopped = false;

  async function refreshDue(): Promise<number> {
    if (!tokenFor || !runtime.updateVolumeFiles) return 0;
    const { items } = await client.list<Pod & KubeObject>("pods");
    const seen = new Set<string>();
    let rewritten = 0;
    for (const pod of items) {
      if (
        pod.spec?.nodeName !== nodeName ||
        pod.status?.phase !== "Running" ||
        pod.metadata.deletionTimestamp
      )
        continue;
      const uid = pod.metadata.uid ?? "";
      for (const volume of pod.spec.volumes ?? []) {
        const projections = (volume.projected?.sources ?? []).flatMap((s) =>
          s.serviceAccountToken ? [s.serviceAccountToken] : [],
        );
        if (projections.length === 0) continue;
        const key = `${uid}/${volume.name}`;
        seen.add(key);
        const shortest = Math.min(
          ...projections.map((p) => p.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS),
        );
        const last = written.get(key);
        if (last !== undefined && clock.now() - last < Math.min(shortest * 1000 * RENEW_AT, MAX_AGE_MS))
          continue;
        try {
          const files: Record<string, string> = {};
          for (const p of projections) files[p.path] = await tokenFor(pod, p);
          await runtime.updateVolumeFiles(uid, volume.name, files);
          written.set(key, clock.now());
          rewritten++;
        } catch (e) {
          log(
            `renewing the token of pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
    }
    for (const key of written.keys()) if (!seen.has(key)) written.delete(key);
    return rewritten;
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      refreshDue()
        .catch((e) => log(`renewing tokens: ${e instanceof Error ? e.message : e}`))
        .finally(schedule);
    }, CHECK_MS);
  }

  return {
    start() {
      stopped = false;
      schedule();
    },
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
    refreshDue,
  };
}
