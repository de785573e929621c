import type { Binding, Pod } from "kubernetes-types/core/v1";
import { setCondition } from "../conditions.ts";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { WriteOptions } from "../seams/client.ts";
import { notSupported, required } from "../validation/causes.ts";
import { isConflict, kindOf, notFound, type RegistryContext } from "./context.ts";
import { rfc3339 } from "./metadata.ts";
import { writeUpdate } from "./writes.ts";

/**
 * POST pods/<name>/binding, as kube-scheduler binds: spec.nodeName and the PodScheduled=True
 * condition in one write (upstream's BindingREST), so a scheduled pod is one event for every
 * watcher, not two. Refused (Conflict) for a pod already on a node, one being deleted, or one
 * whose uid is not the Binding's; the Binding's annotations are copied onto the pod.
 */
export async function bindPod(
  ctx: RegistryContext,
  namespace: string,
  name: string,
  binding: Binding,
  opts: WriteOptions = {},
): Promise<KubeObject> {
  checkBinding(name, binding);
  const pods = kindOf("pods");
  for (let attempt = 0; ; attempt++) {
    const old = await ctx.store.get(pods.key, namespace, name);
    if (!old) throw notFound(pods, name);
    const next = boundPod(old as KubeObject & Pod, name, binding, rfc3339(ctx.now()));
    try {
      return await writeUpdate(ctx, pods, old, next, opts, "binding");
    } catch (e) {
      // written meanwhile (a status update): bind against the newest pod, as GuaranteedUpdate does
      if (!isConflict(e) || attempt >= ctx.maxRetries) throw e;
    }
  }
}

/** The pod bound to the Binding's node; Conflict when it cannot be (upstream's messages). */
function boundPod(pod: KubeObject & Pod, name: string, binding: Binding, now: string): KubeObject {
  const refuse = (why: string) =>
    new ApiError("Conflict", `Operation cannot be fulfilled on pods/binding "${name}": ${why}`);
  const uid = binding.metadata?.uid;
  if (uid && uid !== pod.metadata.uid)
    throw refuse(`Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
  if (pod.metadata.deletionTimestamp)
    throw refuse(`pod ${name} is being deleted, cannot be assigned to a host`);
  if (pod.spec?.nodeName) throw refuse(`pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
  const annotations = { ...pod.metadata.annotations, ...binding.metadata?.annotations };
  return {
    ...pod,
    metadata: { ...pod.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { ...pod.spec!, nodeName: binding.target.name! },
    status: {
      ...pod.status,
      conditions: setCondition(pod.status?.conditions, { type: "PodScheduled", status: "True" }, now),
    },
  } as KubeObject;
}

function checkBinding(name: string, binding: Binding): void {
  if (binding?.kind && binding.kind !== "Binding")
    throw new ApiError("BadRequest", `expected a Binding object, got ${binding.kind}`);
  if (binding?.metadata?.name && binding.metadata.name !== name)
    throw new ApiError(
      "BadRequest",
      `the Binding names pod "${binding.metadata.name}" but the URL names "${name}"`,
    );
  const kind = binding?.target?.kind;
  if (!binding?.target?.name) throw ApiError.invalid("Binding", name, [required("target.name")]);
  if (kind && kind !== "Node")
    throw ApiError.invalid("Binding", name, [notSupported("target.kind", kind, ["Node", "<empty>"])]);
}
