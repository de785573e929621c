import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
} from "kubernetes-types/autoscaling/v2";
import type { Pod } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import { setCondition } from "../conditions.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { cpuMillis, formatCpuMillis } from "../quantity.ts";
import { findByKind, resourceKey } from "../resources.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import { cpuProposal, type PodSample, type Recommendation, scaleUpLimit, stabilize } from "./hpa-replicas.ts";
import type { Kube } from "./owner-references.ts";
import { isPodActive, isPodReady } from "./pods.ts";

/** Where the HPA reads CPU usage; the lead wires it to the runtime's cgroup stats. */
export interface PodMetrics {
  /** Current CPU usage of the pod in millicores, or undefined when not (yet) measured. */
  podCpuMillis(namespace: string, podName: string): Promise<number | undefined>;
}

export interface HpaOptions {
  metrics?: PodMetrics;
  /** How often each HPA is evaluated (kube-controller-manager: 15 s). */
  syncPeriodMs?: number;
}

type Hpa = Kube<HorizontalPodAutoscaler>;
type Target = Kube<{ spec?: { replicas?: number; selector?: LabelSelector } }>;
type Cond = HorizontalPodAutoscalerCondition;

const DEFAULT_METRICS: MetricSpec[] = [
  { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
];

/**
 * autoscaling/v2 HorizontalPodAutoscaler on CPU: usage against requests, Kubernetes' ratio and
 * tolerance, min/max replicas, scale-down stabilization, and scaling through the target's
 * spec.replicas (what the scale subresource changes).
 */
export function createHpaController(ctx: ControllerContext, options: HpaOptions = {}): Controller {
  const { client, informers, clock } = ctx;
  const { metrics, syncPeriodMs = 15_000 } = options;
  const hpas = informers.for<Hpa>("horizontalpodautoscalers.autoscaling");
  const pods = informers.for<Kube<Pod>>("pods");
  const recorder = ctx.events("horizontal-pod-autoscaler");
  const history = new Map<string, Recommendation[]>();

  const controller = createController({ name: "horizontal-pod-autoscaler", log: ctx.log, reconcile });
  hpas.onEvent((e) => {
    if (e.type === "DELETED") history.delete(keyOf(e.object));
    else if (!e.old || !deepEqual(e.old.spec, e.object.spec)) controller.enqueue(keyOf(e.object));
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const hpa = hpas.get(namespace, name);
    if (!hpa?.spec?.scaleTargetRef) return; // nothing to scale (validation should have said so)
    const now = clock.now();
    const nowText = timestamp(clock);
    const ref = hpa.spec!.scaleTargetRef;
    const info = findByKind(ref.apiVersion ?? "apps/v1", ref.kind);
    const target = info && (await client.tryGet<Target>(resourceKey(info), namespace, ref.name));
    const status: HorizontalPodAutoscalerStatus = {
      ...hpa.status,
      observedGeneration: hpa.metadata.generation,
      currentReplicas: hpa.status?.currentReplicas ?? 0,
      desiredReplicas: hpa.status?.desiredReplicas ?? 0,
    };
    const cond = (c: Cond) => {
      status.conditions = setCondition(status.conditions, c, nowText);
    };
    if (!info || !target) {
      const message = `the HPA controller was unable to get the target's current scale: ${ref.kind.toLowerCase()} "${ref.name}" not found`;
      cond({ type: "AbleToScale", status: "False", reason: "FailedGetScale", message });
      if (!hasCondition(hpa, "AbleToScale", "FailedGetScale"))
        recorder.record(hpa, "Warning", "FailedGetScale", message);
      await writeStatus(hpa, status);
      return { requeueAfterMs: syncPeriodMs };
    }

    const current = target.spec?.replicas ?? 1;
    const min = hpa.spec!.minReplicas ?? 1;
    const max = hpa.spec!.maxReplicas;
    status.currentReplicas = current;
    let desired = current;
    let reason = "";
    if (current === 0 && min !== 0) {
      cond({
        type: "ScalingActive",
        status: "False",
        reason: "ScalingDisabled",
        message: "scaling is disabled since the replica count of the target is zero",
      });
      status.desiredReplicas = 0;
      await writeStatus(hpa, status);
      return { requeueAfterMs: syncPeriodMs };
    }
    try {
      const proposal = await proposeCpu(hpa, namespace, target, current);
      status.currentMetrics = [proposal.status];
      desired = proposal.replicas;
      reason = proposal.reason;
      cond({
        type: "ScalingActive",
        status: "True",
        reason: "ValidMetricFound",
        message: `the HPA was able to successfully calculate a replica count from ${reason}`,
      });
    } catch (e) {
      const message = `the HPA was unable to compute the replica count: failed to get cpu utilization: ${e instanceof Error ? e.message : e}`;
      cond({ type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric", message });
      if (!hasCondition(hpa, "ScalingActive", "FailedGetResourceMetric")) {
        recorder.record(
          hpa,
          "Warning",
          "FailedGetResourceMetric",
          `failed to get cpu utilization: ${e instanceof Error ? e.message : e}`,
        );
      }
      cond({
        type: "AbleToScale",
        status: "True",
        reason: "SucceededGetScale",
        message: "the HPA controller was able to get the target's current scale",
      });
      status.desiredReplicas = current;
      await writeStatus(hpa, status);
      return { requeueAfterMs: syncPeriodMs };
    }

    // Stabilize, then limit the rate and the range (Kubernetes' normalizeDesiredReplicasWithBehaviors).
    const behavior = hpa.spec!.behavior;
    const downMs = (behavior?.scaleDown?.stabilizationWindowSeconds ?? 300) * 1000;
    const upMs = (behavior?.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const recs = (history.get(key) ?? []).filter((r) => r.at > now - Math.max(downMs, upMs));
    const stabilized = stabilize(current, desired, recs, now, upMs, downMs);
    history.set(key, [...recs, { at: now, replicas: desired }]);
    let next = Math.min(stabilized, scaleUpLimit(current));
    let limited: Cond = {
      type: "ScalingLimited",
      status: "False",
      reason: "DesiredWithinRange",
      message: "the desired count is within the acceptable range",
    };
    if (next > max) {
      next = max;
      limited = {
        type: "ScalingLimited",
        status: "True",
        reason: "TooManyReplicas",
        message: "the desired replica count is more than the maximum replica count",
      };
    } else if (next < min) {
      next = min;
      limited = {
        type: "ScalingLimited",
        status: "True",
        reason: "TooFewReplicas",
        message: "the desired replica count is less than the minimum replica count",
      };
    }
    cond(limited);
    status.desiredReplicas = next;
    if (next !== current) {
      // Through the scale subresource, as kube-controller-manager does (kubectl sees the same).
      await client.patch(
        resourceKey(info),
        namespace,
        ref.name,
        "merge",
        { spec: { replicas: next } },
        { subresource: "scale" },
      );
      const why = next > current ? `${reason} above target` : "All metrics below target";
      recorder.record(hpa, "Normal", "SuccessfulRescale", `New size: ${next}; reason: ${why}`);
      status.lastScaleTime = nowText;
      cond({
        type: "AbleToScale",
        status: "True",
        reason: "SucceededRescale",
        message: `the HPA controller was able to update the target scale to ${next}`,
      });
    } else if (stabilized !== desired && stabilized > desired) {
      cond({
        type: "AbleToScale",
        status: "True",
        reason: "ScaleDownStabilized",
        message:
          "recent recommendations were higher than current one, applying the highest recent recommendation",
      });
    } else {
      cond({
        type: "AbleToScale",
        status: "True",
        reason: "ReadyForNewScale",
        message: "recommended size matches current size",
      });
    }
    await writeStatus(hpa, status);
    return { requeueAfterMs: syncPeriodMs };
  }

  async function proposeCpu(hpa: Hpa, namespace: string, target: Target, current: number) {
    const spec = (hpa.spec!.metrics?.length ? hpa.spec!.metrics : DEFAULT_METRICS).find(
      (m) => m.type === "Resource" && m.resource?.name === "cpu",
    );
    if (!spec?.resource) throw new Error("only Resource metrics for cpu are supported");
    if (!metrics) throw new Error("unable to get metrics for resource cpu: no metrics source configured");
    const selected = pods
      .list(namespace)
      .filter((p) => isPodActive(p) && labelSelectorMatches(target.spec?.selector, p.metadata.labels));
    if (!selected.length) throw new Error("no pods returned by selector while calculating replica count");
    const samples: PodSample[] = [];
    for (const pod of selected) {
      let requestMillis = 0;
      for (const c of pod.spec?.containers ?? []) {
        const req = c.resources?.requests?.cpu;
        if (req === undefined)
          throw new Error(`missing request for cpu in container ${c.name} of Pod ${pod.metadata.name}`);
        requestMillis += cpuMillis(req);
      }
      const ready = pod.status?.phase === "Running" && isPodReady(pod);
      samples.push({
        requestMillis,
        usageMillis: await metrics.podCpuMillis(namespace, pod.metadata.name!),
        ready,
      });
    }
    const t = spec.resource.target;
    const byUtilization = t.type === "Utilization";
    const proposal = cpuProposal(
      current,
      samples,
      byUtilization
        ? { utilization: t.averageUtilization ?? 80 }
        : { averageMillis: cpuMillis(t.averageValue) },
    );
    const status: MetricStatus = {
      type: "Resource",
      resource: {
        name: "cpu",
        current: {
          averageValue: formatCpuMillis(proposal.averageMillis),
          ...(byUtilization ? { averageUtilization: proposal.utilization } : {}),
        },
      },
    };
    const reason = byUtilization ? "cpu resource utilization (percentage of request)" : "cpu resource";
    return { replicas: proposal.replicas, status, reason };
  }

  async function writeStatus(hpa: Hpa, status: HorizontalPodAutoscalerStatus): Promise<void> {
    if (deepEqual(status, hpa.status)) return;
    hpas.observe(await client.updateStatus<Hpa>("horizontalpodautoscalers.autoscaling", { ...hpa, status }));
  }
}

function hasCondition(hpa: Hpa, type: string, reason: string): boolean {
  return !!hpa.status?.conditions?.some((c) => c.type === type && c.reason === reason);
}
