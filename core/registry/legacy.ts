import type { KubeObject } from "../object.ts";

type Spec = Record<string, unknown> & {
  selector?: unknown;
  template?: { metadata?: { labels?: Record<string, string> } };
};

/**
 * Field conversions for old apiVersions that are still accepted (LEGACY_API_VERSIONS), applied
 * before the object is treated as its served version.
 */
export function convertLegacy(apiVersion: string, obj: KubeObject): void {
  const spec = obj.spec as Spec | undefined;
  if (!spec) return;
  if (obj.kind === "Deployment" || obj.kind === "ReplicaSet") {
    // Old workload APIs defaulted a missing selector from the template's labels.
    const labels = spec.template?.metadata?.labels;
    if (!spec.selector && labels) spec.selector = { matchLabels: { ...labels } };
    // rollbackTo was dropped in apps/v1 (rollbacks became a client-side operation).
    delete spec.rollbackTo;
  }
  if (obj.kind === "HorizontalPodAutoscaler" && apiVersion === "autoscaling/v1") {
    const target = spec.targetCPUUtilizationPercentage;
    delete spec.targetCPUUtilizationPercentage;
    if (typeof target === "number") {
      spec.metrics = [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: target } },
        },
      ];
    }
  }
}
