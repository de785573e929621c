import type { Pod } from "kubernetes-types/core/v1";
import type { OwnerReference } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { Informer } from "./informer.ts";
import { controllerRef, type Kube, ownerReferenceTo } from "./owner-references.ts";

type P = Kube<Pod>;

/**
 * Kubernetes' ClaimPods for StatefulSets and DaemonSets: the owner's pods after adopting orphans
 * that `matches` accepts and releasing owned pods it no longer accepts. An owner being deleted
 * adopts nothing.
 */
export async function claimPods(
  client: Client,
  pods: Informer<P>,
  owner: KubeObject,
  matches: (pod: P) => boolean,
): Promise<P[]> {
  const out: P[] = [];
  const setOwners = async (pod: P, ownerReferences: OwnerReference[]) => {
    const updated = await client.update<P>("pods", {
      ...pod,
      metadata: { ...pod.metadata, ownerReferences },
    });
    pods.observe(updated);
    return updated;
  };
  for (const pod of pods.list(owner.metadata.namespace)) {
    const ref = controllerRef(pod);
    if (ref?.uid === owner.metadata.uid) {
      if (matches(pod)) out.push(pod);
      else if (!pod.metadata.deletionTimestamp)
        await setOwners(
          pod,
          (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid),
        );
    } else if (!ref && !pod.metadata.deletionTimestamp && !owner.metadata.deletionTimestamp && matches(pod)) {
      out.push(await setOwners(pod, [...(pod.metadata.ownerReferences ?? []), ownerReferenceTo(owner)]));
    }
  }
  return out;
}
