import type { Job, PodFailurePolicyRule } from "kubernetes-types/batch/v1";
import type { Container, ContainerStatus, Pod } from "kubernetes-types/core/v1";
import { COMPLETION_INDEX, INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT } from "../job-labels.ts";
import { parseTime } from "../loop/clock.ts";
import { JOB_TRACKING_FINALIZER } from "./job-tracking.ts";
import { type Kube, ownerReferenceTo } from "./owner-references.ts";

/**
 * What the job controller needs to know about pods, as pure functions: the pod it creates for
 * an index, which completion index a pod holds, how a failed pod is judged by the Job's
 * podFailurePolicy, and how long to wait before replacing failed pods.
 */

/**
 * The pod of a Job: its template, owned by it and held by the job-tracking finalizer until
 * counted; an Indexed Job's pod also carries its index.
 */
export function jobPod(
  job: Kube<Job>,
  index: number | undefined,
  retry?: { failures: number; ignored: number },
): Kube<Pod> {
  const template = job.spec?.template ?? {};
  const name = job.metadata.name!;
  const labels = { ...template.metadata?.labels };
  const annotations = { ...template.metadata?.annotations };
  const spec = structuredClone(template.spec ?? { containers: [] });
  if (index !== undefined) {
    labels[COMPLETION_INDEX] = String(index);
    annotations[COMPLETION_INDEX] = String(index);
    const env = {
      name: "JOB_COMPLETION_INDEX",
      valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } },
    };
    const withIndex = (c: Container): Container =>
      c.env?.some((e) => e.name === env.name) ? c : { ...c, env: [...(c.env ?? []), env] };
    spec.containers = spec.containers.map(withIndex);
    if (spec.initContainers) spec.initContainers = spec.initContainers.map(withIndex);
    if (!spec.hostname) spec.hostname = `${name}-${index}`.slice(0, 63).replace(/[-.]+$/, "");
    // backoffLimitPerIndex: the index's failures so far travel with its next pod.
    if (job.spec?.backoffLimitPerIndex !== undefined) {
      annotations[INDEX_FAILURE_COUNT] = String(retry?.failures ?? 0);
      if (retry?.ignored) annotations[INDEX_IGNORED_FAILURE_COUNT] = String(retry.ignored);
    }
  }
  // The registry appends 5 random characters to a base cut to 58, as kube-apiserver does.
  const generateName = `${index === undefined ? name : `${name}-${index}`}-`.slice(0, 58);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName,
      namespace: job.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerReferenceTo(job)],
      finalizers: [JOB_TRACKING_FINALIZER],
    },
    spec,
  };
}

/** The completion index of an Indexed Job's pod, or undefined when it has none that fits. */
export function podIndex(pod: Pod, completions: number): number | undefined {
  const raw = pod.metadata?.annotations?.[COMPLETION_INDEX] ?? pod.metadata?.labels?.[COMPLETION_INDEX];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const i = Number(raw);
  return i < completions ? i : undefined;
}

/** `1,3-5,7` → the set of indexes, as status.completedIndexes writes them. */
export function parseIndexes(text: string | undefined, limit: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? "").split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = Math.min(Number(m[2] ?? m[1]), limit - 1);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return out;
}

/** The set written back as ranges: `0-2,5`. */
export function formatIndexes(indexes: Set<number>): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export type FailureVerdict =
  | { action: "Count" }
  | { action: "Ignore" }
  | { action: "FailJob"; message: string }
  | { action: "FailIndex" };

/** How the first matching podFailurePolicy rule judges a failed pod (Count when none match). */
export function judgeFailedPod(job: Job, pod: Pod): FailureVerdict {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  for (const [i, rule] of rules.entries()) {
    const matched = ruleMatches(rule, pod);
    if (!matched) continue;
    if (rule.action === "FailJob") {
      const pod_ = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      const message =
        matched === true
          ? `Pod ${pod_} has condition ${rule.onPodConditions?.[0]?.type} matching FailJob rule at index ${i}`
          : `Container ${matched.name} for pod ${pod_} failed with exit code ${matched.state?.terminated?.exitCode} matching FailJob rule at index ${i}`;
      return { action: "FailJob", message };
    }
    if (rule.action === "Ignore") return { action: "Ignore" };
    if (rule.action === "FailIndex") return { action: "FailIndex" };
    return { action: "Count" };
  }
  return { action: "Count" };
}

/** The container status that matched an exit-code rule, true for a condition rule, or false. */
function ruleMatches(rule: PodFailurePolicyRule, pod: Pod): ContainerStatus | boolean {
  const codes = rule.onExitCodes;
  if (codes) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const s of statuses) {
      if (codes.containerName && s.name !== codes.containerName) continue;
      const code = s.state?.terminated?.exitCode;
      if (code === undefined || code === 0) continue;
      if (codes.values.includes(code) === (codes.operator === "In")) return s;
    }
    return false;
  }
  return (rule.onPodConditions ?? []).some((want) =>
    pod.status?.conditions?.some((c) => c.type === want.type && c.status === (want.status ?? "True")),
  );
}

/** When a pod finished: the latest container finish, else its last condition change. */
export function podFinishedAt(pod: Pod): number {
  const times = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    .map((s) => parseTime(s.state?.terminated?.finishedAt))
    .filter((t) => !Number.isNaN(t));
  if (times.length) return Math.max(...times);
  const conditions = (pod.status?.conditions ?? []).map((c) => parseTime(c.lastTransitionTime));
  const known = conditions.filter((t) => !Number.isNaN(t));
  return known.length ? Math.max(...known) : parseTime(pod.metadata?.creationTimestamp);
}

/** Container restarts of a pod (what backoffLimit counts for restartPolicy OnFailure). */
export function podRestarts(pod: Pod): number {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].reduce(
    (n, s) => n + (s.restartCount ?? 0),
    0,
  );
}

/** Kubernetes' pod failure back-off: 10 s, doubling per consecutive failure, at most 6 min. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;

/**
 * Ms to wait before creating pods again after failures: the back-off of the failures since
 * the last success, counted from the latest failure; 0 when none is due.
 */
export function replacementDelayMs(failedPods: Pod[], succeededPods: Pod[], now: number): number {
  const lastSuccess = Math.max(0, ...succeededPods.map(podFinishedAt).filter((t) => !Number.isNaN(t)));
  const recent = failedPods.map(podFinishedAt).filter((t) => !Number.isNaN(t) && t >= lastSuccess);
  if (!recent.length) return 0;
  const backoff = Math.min(POD_FAILURE_BACKOFF_MS * 2 ** (recent.length - 1), MAX_POD_FAILURE_BACKOFF_MS);
  return Math.max(0, Math.max(...recent) + backoff - now);
}
