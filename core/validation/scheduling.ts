import type { RuntimeClass } from "kubernetes-types/node/v1";
import type { PriorityClass } from "kubernetes-types/scheduling/v1";
import type { KubeObject } from "../object.ts";
import { type Causes, forbidden, immutable, invalid, notSupported, required } from "./causes.ts";
import { dns1123Label } from "./names.ts";

/** Upstream's HighestUserDefinablePriority; the system classes sit above it. */
export const HIGHEST_USER_PRIORITY = 1_000_000_000;

/** The two classes every cluster has (upstream's SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES = [
  {
    name: "system-node-critical",
    value: 2_000_001_000,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    name: "system-cluster-critical",
    value: 2_000_000_000,
    description:
      "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
];

const PREEMPTION = ["Never", "PreemptLowerPriority"];

export function validatePriorityClass(obj: KubeObject): Causes {
  const pc = obj as unknown as PriorityClass;
  const causes: Causes = [];
  const name = pc.metadata?.name ?? "";
  const system = SYSTEM_PRIORITY_CLASSES.find((s) => s.name === name);
  if (typeof pc.value !== "number" || !Number.isInteger(pc.value)) causes.push(required("value"));
  else if (system) {
    if (pc.value !== system.value)
      causes.push(invalid("value", pc.value, `the value of ${name} is fixed at ${system.value}`));
  } else if (name.startsWith("system-"))
    causes.push(
      forbidden(
        "metadata.name",
        "priority class names with 'system-' prefix are reserved for system use only",
      ),
    );
  else if (pc.value > HIGHEST_USER_PRIORITY)
    causes.push(
      forbidden("value", `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`),
    );
  if (pc.preemptionPolicy !== undefined && !PREEMPTION.includes(pc.preemptionPolicy))
    causes.push(notSupported("preemptionPolicy", pc.preemptionPolicy, PREEMPTION));
  return causes;
}

export function validatePriorityClassUpdate(obj: KubeObject, old: KubeObject): Causes {
  const [pc, was] = [obj as unknown as PriorityClass, old as unknown as PriorityClass];
  const causes: Causes = [];
  if (pc.value !== was.value) causes.push(forbidden("value", "may not be changed in an update."));
  if ((pc.preemptionPolicy ?? "") !== (was.preemptionPolicy ?? ""))
    causes.push(immutable("preemptionPolicy", pc.preemptionPolicy));
  return causes;
}

export function validateRuntimeClass(obj: KubeObject): Causes {
  const rc = obj as unknown as RuntimeClass;
  if (!rc.handler) return [required("handler")];
  return dns1123Label(rc.handler).map((m) => invalid("handler", rc.handler, m));
}

export function validateRuntimeClassUpdate(obj: KubeObject, old: KubeObject): Causes {
  const [rc, was] = [obj as unknown as RuntimeClass, old as unknown as RuntimeClass];
  return rc.handler === was.handler ? [] : [immutable("handler", rc.handler)];
}
