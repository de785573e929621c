import { kubeTime } from "./loop/clock.ts";
import type { KubeObject } from "./object.ts";
import type { Client } from "./seams/client.ts";

/**
 * Records core/v1 Events the way Kubernetes components do: one Event per (object, reason,
 * message), its `count` and `lastTimestamp` bumped on repeats. Never throws: an event that cannot
 * be written must not break the reconcile that emitted it.
 *
 * Like client-go's event broadcaster, recording only queues: the writes follow a moment later, in
 * one batch, so they never sit on the path of the work that emitted them (a pod start records
 * about five, each a full write through the registry). The queue is bounded as upstream's (1,000);
 * beyond that events are dropped, and the drop is logged once per batch.
 */
export interface EventRecorder {
  record(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

/** How long recorded events wait before their batch is written. */
export const EVENT_BATCH_DELAY_MS = 50;
/** client-go's maxQueuedEvents. */
export const MAX_QUEUED_EVENTS = 1000;

/** What an Event says of its object (its involvedObject): all a queued event keeps of it. */
interface Involved {
  apiVersion: string;
  kind: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

interface Queued {
  object: Involved;
  type: string;
  reason: string;
  message: string;
  at: number;
}

export function createEventRecorder(client: Client, component: string, host = "minik"): EventRecorder {
  let queue: Queued[] = [];
  let dropped = 0;
  let scheduled = false;
  const schedule = () => {
    scheduled = true;
    setTimeout(() => void flush(), EVENT_BATCH_DELAY_MS);
  };

  async function flush(): Promise<void> {
    const batch = queue;
    queue = [];
    if (dropped) console.error(`events: ${component}: queue full, ${dropped} events dropped`);
    dropped = 0;
    // one after another: a repeat in the same batch bumps the count of the one written before it
    for (const e of batch)
      await writeEvent(client, component, host, e.object, e.type, e.reason, e.message, e.at).catch(() => {});
    scheduled = false;
    if (queue.length) schedule();
  }

  return {
    record(object, type, reason, message) {
      if (queue.length >= MAX_QUEUED_EVENTS) {
        dropped++;
        return;
      }
      // not the object itself: a queue of whole pods would hold megabytes during a rollout
      const { apiVersion, kind, metadata: m } = object;
      queue.push({
        object: {
          apiVersion,
          kind,
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
        },
        type,
        reason,
        message,
        at: Date.now(),
      });
      if (!scheduled) schedule();
    },
  };
}

async function writeEvent(
  client: Client,
  component: string,
  host: string,
  object: Involved,
  type: string,
  reason: string,
  message: string,
  at: number,
): Promise<void> {
  const namespace = object.namespace || "default";
  const now = kubeTime(at);
  const key = await shortHash(`${object.uid}|${reason}|${message}`);
  const name = `${object.name}.${key}`;
  const existing = await client.tryGet("events", namespace, name);
  if (existing) {
    existing.count = ((existing.count as number) ?? 1) + 1;
    existing.lastTimestamp = now;
    await client.update("events", existing);
    return;
  }
  await client.create("events", {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace },
    involvedObject: object,
    reason,
    message,
    type,
    source: { component, host },
    reportingComponent: component,
    reportingInstance: host,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  });
}

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}
