import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { labelSelectorToString } from "../selectors.ts";
import { invalid as invalidCause, required } from "../validation/causes.ts";
import type { Kind } from "./context.ts";

/** Kinds with a /scale subresource (autoscaling/v1 Scale). */
const SCALABLE = new Set(["deployments.apps", "replicasets.apps", "statefulsets.apps"]);

export function checkScalable(kind: Kind): void {
  if (!SCALABLE.has(kind.key) && !kind.scale) {
    throw new ApiError("NotFound", `the server could not find the requested resource (${kind.key}/scale)`);
  }
}

/** The autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
export function toScale(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: never };
  const status = (obj.status ?? {}) as { replicas?: number };
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: labelSelectorToString(spec.selector) },
  };
}

/** spec.replicas of a Scale written by a client; Invalid (Scale.autoscaling) when not a count. */
export function replicasOf(scale: KubeObject): number {
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  const name = scale.metadata?.name ?? "";
  if (replicas === undefined)
    throw ApiError.invalid("Scale", name, [required("spec.replicas")], "autoscaling");
  if (!Number.isInteger(replicas) || (replicas as number) < 0) {
    throw ApiError.invalid(
      "Scale",
      name,
      [invalidCause("spec.replicas", replicas, "must be greater than or equal to 0")],
      "autoscaling",
    );
  }
  return replicas as number;
}

/** The object with its replicas set from a Scale. */
export function withReplicas(obj: KubeObject, replicas: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata }, spec: { ...(obj.spec as object), replicas } };
}

/** The Scale view of any scalable kind (custom resources map their own replica paths). */
export function toScaleOf(kind: Kind, obj: KubeObject): KubeObject {
  return kind.scale ? kind.scale.toScale(obj) : toScale(obj);
}

export function withReplicasOf(kind: Kind, obj: KubeObject, replicas: number): KubeObject {
  return kind.scale ? kind.scale.withReplicas(obj, replicas) : withReplicas(obj, replicas);
}
