import type { PriorityClass } from "kubernetes-types/scheduling/v1";
import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Store } from "../store/store.ts";
import { SYSTEM_PRIORITY_CLASSES } from "../validation/scheduling.ts";
import { type AdmissionHook, admissionForbidden } from "./admission.ts";
import { kindOf, type RegistryContext } from "./context.ts";
import { createObject } from "./writes.ts";

/**
 * The Priority admission plugin: a pod's `priorityClassName` (or the cluster's globalDefault
 * class) becomes `spec.priority` and `spec.preemptionPolicy`; an unknown class or a priority that
 * disagrees with its class is 403. PriorityClasses: one globalDefault only; the system-* classes
 * cannot be deleted.
 */
export const PRIORITY_CLASSES = "priorityclasses.scheduling.k8s.io";

export function priorityAdmission(store: Store): AdmissionHook {
  return async (req) => {
    if (req.resource === "pods" && req.operation === "CREATE" && !req.subresource)
      return admitPod(store, req.object);
    if (req.resource !== PRIORITY_CLASSES) return;
    const name = req.object.metadata.name ?? "";
    if (req.operation === "DELETE" && SYSTEM_PRIORITY_CLASSES.some((s) => s.name === name))
      throw admissionForbidden(
        PRIORITY_CLASSES,
        name,
        "this is a system priority class and cannot be deleted",
      );
    if (req.operation !== "DELETE" && (req.object as unknown as PriorityClass).globalDefault) {
      const other = (await classes(store)).find((c) => c.globalDefault && c.metadata?.name !== name);
      if (other)
        throw admissionForbidden(
          PRIORITY_CLASSES,
          name,
          `PriorityClass ${other.metadata?.name} is already marked as default. Only one default can exist`,
        );
    }
  };
}

async function admitPod(store: Store, pod: KubeObject): Promise<void> {
  pod.spec ??= {};
  const spec = pod.spec as {
    priorityClassName?: string;
    priority?: number;
    preemptionPolicy?: string;
  };
  const name = pod.metadata.name ?? "";
  let value = 0;
  let policy = "PreemptLowerPriority";
  if (spec.priorityClassName) {
    const pc = (await store.get(PRIORITY_CLASSES, "", spec.priorityClassName)) as unknown as
      | PriorityClass
      | undefined;
    if (!pc)
      throw admissionForbidden(
        "pods",
        name,
        `no PriorityClass with name ${spec.priorityClassName} was found`,
      );
    value = pc.value;
    policy = pc.preemptionPolicy ?? policy;
  } else {
    // The lowest-valued globalDefault class, as upstream picks when several claim it.
    const defaults = (await classes(store)).filter((c) => c.globalDefault).sort((a, b) => a.value - b.value);
    if (defaults[0]) {
      spec.priorityClassName = defaults[0].metadata?.name;
      value = defaults[0].value;
      policy = defaults[0].preemptionPolicy ?? policy;
    }
  }
  // The pod strategy's defaults (priority 0, PreemptLowerPriority) ran before admission, so those
  // two values count as unset: only another explicit value can disagree with the class.
  if (spec.priority !== undefined && spec.priority !== 0 && spec.priority !== value)
    throw admissionForbidden(
      "pods",
      name,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
    );
  if (
    spec.preemptionPolicy !== undefined &&
    spec.preemptionPolicy !== "PreemptLowerPriority" &&
    spec.preemptionPolicy !== policy
  )
    throw admissionForbidden(
      "pods",
      name,
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
    );
  spec.priority = value;
  spec.preemptionPolicy = policy;
}

async function classes(store: Store): Promise<PriorityClass[]> {
  return (await store.list(PRIORITY_CLASSES)).items as unknown as PriorityClass[];
}

/** Creates the system-* classes every cluster has (upstream's post-start hook). */
export async function bootstrapPriorityClasses(ctx: RegistryContext): Promise<void> {
  for (const system of SYSTEM_PRIORITY_CLASSES) {
    if (await ctx.store.get(PRIORITY_CLASSES, "", system.name)) continue;
    try {
      await createObject(ctx, kindOf(PRIORITY_CLASSES), {
        apiVersion: "scheduling.k8s.io/v1",
        kind: "PriorityClass",
        metadata: { name: system.name },
        value: system.value,
        description: system.description,
      } as KubeObject);
    } catch (e) {
      if (!isApiError(e, "AlreadyExists")) throw e;
    }
  }
}
