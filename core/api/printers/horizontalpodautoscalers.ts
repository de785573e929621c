import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from "kubernetes-types/autoscaling/v2";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Reference",
      "string",
      "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
    ),
    column(
      "Targets",
      "string",
      "metrics contains the specifications for which to use to calculate the desired replica count.",
    ),
    column(
      "MinPods",
      "string",
      "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
    ),
    column(
      "MaxPods",
      "integer",
      "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
    ),
    column(
      "Replicas",
      "integer",
      "currentReplicas is current number of replicas of pods managed by this autoscaler.",
    ),
    ageColumn,
  ],
  cells(obj, now) {
    const hpa = obj as unknown as HorizontalPodAutoscaler;
    const ref = hpa.spec?.scaleTargetRef;
    return [
      hpa.metadata?.name,
      ref ? `${ref.kind}/${ref.name}` : "<none>",
      targets(hpa.spec?.metrics ?? [], hpa.status?.currentMetrics ?? []),
      hpa.spec?.minReplicas !== undefined ? String(hpa.spec.minReplicas) : "<unset>",
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      since(hpa.metadata?.creationTimestamp, now),
    ];
  },
};

/** `cpu: 40%/50%`, `<unknown>/50%` before the first measurement; `<none>` without metrics. */
function targets(specs: MetricSpec[], statuses: MetricStatus[]): string {
  if (specs.length === 0) return "<none>";
  return specs
    .map((spec, i) => {
      if (spec.type !== "Resource" || !spec.resource) return `<unknown>/${spec.type}`;
      const current = statuses[i]?.resource?.current;
      const target = spec.resource.target;
      const name = spec.resource.name;
      if (target.type === "Utilization") {
        const value =
          current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : "<unknown>";
        return `${name}: ${value}/${target.averageUtilization}%`;
      }
      const want = target.averageValue ?? target.value ?? "";
      const have = current?.averageValue ?? current?.value ?? "<unknown>";
      return `${name}: ${have}/${want}`;
    })
    .join(", ");
}
