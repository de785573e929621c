import { kubeTime } from "./loop/clock.ts";
import type { KubeObject } from "./object.ts";
import type { Client } from "./seams/client.ts";

/**
 * Records core/v1 Events the way Kubernetes components do: one Event per (object, reason,
 * message), its `count` and `lastTimestamp` bumped on repeats. Never throws: an event that cannot
 * be written must not break the reconcile that emitted it.
 */
export interface EventRecorder {
  record(object: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

export function createEventRecorder(client: Client, component: string, host = "minik"): EventRecorder {
  return {
    record(object, type, reason, message) {
      void writeEvent(client, component, host, object, type, reason, message).catch(() => {});
    },
  };
}

async function writeEvent(
  client: Client,
  component: string,
  host: string,
  object: KubeObject,
  type: string,
  reason: string,
  message: string,
): Promise<void> {
  const namespace = object.metadata.namespace || "default";
  const now = kubeTime(Date.now());
  const key = await shortHash(`${object.metadata.uid}|${reason}|${message}`);
  const name = `${object.metadata.name}.${key}`;
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
    involvedObject: {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
    },
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
