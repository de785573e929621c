import type { Container, Pod, PodSpec } from "kubernetes-types/core/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { forbidden } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validatePodSpec } from "../../validation/pod-spec.ts";
import { as, type Mutable, type Strategy } from "../strategy.ts";
import { defaultHostNetworkPorts, defaultPodSpec } from "./pod-spec-defaults.ts";

const IMMUTABLE_MESSAGE =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

export const podStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    const pod = as<Pod>(obj);
    pod.status = { phase: "Pending", qosClass: qosClass(pod.spec) };
    if (pod.spec) addDefaultTolerations(pod.spec);
  },
  defaults(obj) {
    const spec = as<Pod>(obj).spec;
    if (!spec) return;
    defaultPodSpec(spec);
    defaultHostNetworkPorts(spec);
    // What the ServiceAccount and Priority admission plugins fill in on a real cluster.
    spec.serviceAccountName ??= spec.serviceAccount ?? "default";
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.priority ??= 0;
    spec.preemptionPolicy ??= "PreemptLowerPriority";
  },
  validate: (obj) => validatePodSpec(as<Pod>(obj).spec, "spec"),
  validateUpdate(obj, old) {
    const spec = as<Pod>(obj).spec;
    const oldSpec = as<Pod>(old).spec;
    if (!spec || !oldSpec) return [];
    return deepEqual(withMutableFieldsOf(spec, oldSpec), oldSpec)
      ? []
      : [forbidden("spec", IMMUTABLE_MESSAGE)];
  },
  gracePeriodSeconds(obj, requested) {
    const pod = as<Pod>(obj);
    const phase = pod.status?.phase;
    // An unbound or finished pod has nothing to stop on a node.
    if (!pod.spec?.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
    return requested ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  },
};

/** DefaultTolerationSeconds admission: tolerate a not-ready/unreachable node for 300 s. */
function addDefaultTolerations(spec: Mutable<PodSpec>): void {
  const tolerations = spec.tolerations ?? [];
  for (const key of ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]) {
    if (tolerations.some((t) => t.key === key && (t.effect ?? "NoExecute") === "NoExecute")) continue;
    tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

/** `spec` with the fields an update may change taken from `old`, to compare the rest. */
function withMutableFieldsOf(spec: PodSpec, old: PodSpec): PodSpec {
  const images = (list: Container[] | undefined, from: Container[] | undefined) =>
    list?.map((c, i) => (from?.[i] ? { ...c, image: from[i]!.image } : c));
  return {
    ...spec,
    containers: images(spec.containers, old.containers) ?? [],
    initContainers: images(spec.initContainers, old.initContainers),
    activeDeadlineSeconds: old.activeDeadlineSeconds,
    tolerations: old.tolerations,
    terminationGracePeriodSeconds: old.terminationGracePeriodSeconds,
    // Binding (the scheduler setting nodeName once) is allowed through update as well.
    nodeName: old.nodeName ? spec.nodeName : old.nodeName,
  };
}

/** Guaranteed, Burstable or BestEffort, from the containers' requests and limits. */
export function qosClass(spec: PodSpec | undefined): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ["cpu", "memory"]) {
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
