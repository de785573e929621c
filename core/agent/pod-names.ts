import type { Pod } from "kubernetes-types/core/v1";

/** How the agent names a pod: its queue key, its name in messages, and its event subject. */

/** `namespace/name`: the work-queue key of a pod. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** `name_namespace(uid)`, as the kubelet names a pod in messages. */
export function podDescription(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace ?? "default"}(${pod.metadata?.uid})`;
}

/** Pod as the KubeObject the event recorder wants. */
export function asObject(pod: Pod) {
  return { ...pod, apiVersion: "v1", kind: "Pod", metadata: pod.metadata ?? {} };
}
