import type { OwnerReference } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../object.ts";

/** A kubernetes-types kind as the Client stores it (`Kube<Deployment>`). */
export type Kube<T> = T & KubeObject;

/** The ownerReference with controller:true, if any. */
export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return controllerRef(obj)?.uid === owner.metadata.uid;
}

/** The reference a controller puts on what it creates (GC deletes it with the owner). */
export function ownerReferenceTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}
