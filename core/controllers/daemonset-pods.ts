import type { DaemonSet } from "kubernetes-types/apps/v1";
import type { Node, Pod, PodTemplateSpec, Toleration } from "kubernetes-types/core/v1";
import { REVISION_HASH_LABEL } from "./controller-revisions.ts";
import { type Kube, ownerReferenceTo } from "./owner-references.ts";
import { matchesNodeSelector, tolerates } from "./scheduler.ts";

/**
 * What a DaemonSet's pods look like (Kubernetes' daemon/util): the template plus the daemon
 * tolerations, pinned to one node by required node affinity on `metadata.name` (the default
 * scheduler binds it), labelled with the revision hash and template generation.
 */
export type Ds = Kube<DaemonSet>;
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";

const tol = (key: string, effect: "NoSchedule" | "NoExecute"): Toleration => ({
  key,
  operator: "Exists",
  effect,
});

/** The tolerations every daemon pod gets, so node conditions do not evict or block it. */
export function daemonTolerations(template: PodTemplateSpec | undefined): Toleration[] {
  const out: Toleration[] = [
    tol("node.kubernetes.io/not-ready", "NoExecute"),
    tol("node.kubernetes.io/unreachable", "NoExecute"),
    tol("node.kubernetes.io/disk-pressure", "NoSchedule"),
    tol("node.kubernetes.io/memory-pressure", "NoSchedule"),
    tol("node.kubernetes.io/pid-pressure", "NoSchedule"),
    tol("node.kubernetes.io/unschedulable", "NoSchedule"),
  ];
  if (template?.spec?.hostNetwork) out.push(tol("node.kubernetes.io/network-unavailable", "NoSchedule"));
  const own = template?.spec?.tolerations ?? [];
  return [...own, ...out.filter((t) => !own.some((o) => o.key === t.key && o.effect === t.effect))];
}

/** Whether the DaemonSet should run a pod on `node`: selector/affinity match, taints tolerated. */
export function shouldRunOn(ds: Ds, node: Node): boolean {
  const template = ds.spec?.template;
  const tolerations = daemonTolerations(template);
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect === "PreferNoSchedule") continue;
    if (!tolerations.some((t) => tolerates(t, taint))) return false;
  }
  return matchesNodeSelector({ spec: template?.spec } as Pod, node);
}

/** The node a daemon pod is for: where it is bound, or where its affinity pins it. */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const t of terms ?? [])
    for (const f of t.matchFields ?? [])
      if (f.key === "metadata.name" && f.operator === "In") return f.values?.[0];
  return undefined;
}

export function newDaemonPod(ds: Ds, nodeName: string, hash: string): Kube<Pod> {
  const template = ds.spec?.template ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.tolerations = daemonTolerations(template);
  // Pinned to the node by affinity on its name, replacing any node affinity of the template's.
  spec.affinity = {
    ...spec.affinity,
    nodeAffinity: {
      ...spec.affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
      },
    },
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${ds.metadata.name}-`.slice(0, 58),
      namespace: ds.metadata.namespace,
      labels: {
        ...template.metadata?.labels,
        [REVISION_HASH_LABEL]: hash,
        [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1),
      },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerReferenceTo(ds)],
    },
    spec,
  };
}
