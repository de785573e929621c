import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { claimsOf, defaultClass, podHoldsClaims } from "../storage/claim-matching.ts";

/**
 * The scheduler's volume checks, as kube-scheduler's VolumeBinding and VolumeRestrictions
 * plugins make them: a pod waits while a claim it names is missing, being deleted, or unbound
 * in an Immediate class (PreFilter: no node can help), and while another pod on the node holds
 * a ReadWriteOncePod claim it names (Filter). ReadWriteOnce needs nothing more on one node.
 */

export const READ_WRITE_ONCE_POD_CONFLICT =
  "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";
export const UNBOUND_IMMEDIATE_CLAIMS = "pod has unbound immediate PersistentVolumeClaims";

export interface VolumeLookup {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  classes(): StorageClass[];
}

export interface VolumeVerdict {
  /** A reason no node can change (kube-scheduler prints it without a node count). */
  preFilter?: string;
  /** A reason of this node (printed as "1 <reason>"). */
  filter?: string;
}

export function volumeVerdict(pod: Pod, lookup: VolumeLookup, podsOnNode: Pod[]): VolumeVerdict {
  const namespace = pod.metadata?.namespace ?? "default";
  const names = claimsOf(pod);
  if (!names.length) return {};
  const claims: PersistentVolumeClaim[] = [];
  for (const name of names) {
    const claim = lookup.claim(namespace, name);
    if (!claim) return { preFilter: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata?.deletionTimestamp)
      return { preFilter: `persistentvolumeclaim "${name}" is being deleted` };
    claims.push(claim);
  }
  if (claims.some((c) => !c.spec?.volumeName && !waitsForConsumer(c, lookup.classes())))
    return { preFilter: UNBOUND_IMMEDIATE_CLAIMS };
  const exclusive = new Set(
    claims.filter((c) => c.spec?.accessModes?.includes("ReadWriteOncePod")).map((c) => c.metadata?.name),
  );
  if (!exclusive.size) return {};
  const holder = podsOnNode.find(
    (p) =>
      p.metadata?.uid !== pod.metadata?.uid &&
      (p.metadata?.namespace ?? "default") === namespace &&
      podHoldsClaims(p) &&
      claimsOf(p).some((name) => exclusive.has(name)),
  );
  return holder ? { filter: READ_WRITE_ONCE_POD_CONFLICT } : {};
}

/** Whether an unbound claim is bound only once a pod using it is scheduled (WaitForFirstConsumer). */
function waitsForConsumer(claim: PersistentVolumeClaim, classes: StorageClass[]): boolean {
  const name = claim.spec?.storageClassName ?? defaultClass(classes)?.metadata?.name;
  if (!name) return false;
  const cls = classes.find((c) => c.metadata?.name === name);
  // A class not (yet) known: not for the scheduler to judge; the claim's own events say why.
  return !cls || cls.volumeBindingMode === "WaitForFirstConsumer";
}
