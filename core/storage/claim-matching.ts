import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { parseQuantity } from "../quantity.ts";
import { DEFAULT_CLASS_ANNOTATION } from "./storage-names.ts";

/** Pure rules of the PV controller: which volume fits a claim, which class is the default, who uses a claim. */

export function requestedBytes(pvc: PersistentVolumeClaim): number {
  return parseQuantity(pvc.spec?.resources?.requests?.storage as string | undefined) || 0;
}

export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.spec?.storageClassName ?? "";
}

/**
 * Whether `pv` can bind `pvc`: same class, every requested access mode offered, enough
 * capacity, not promised to another claim, not being deleted, Available (or pre-bound to it).
 */
export function volumeFits(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  if (pv.metadata?.deletionTimestamp) return false;
  const ref = pv.spec?.claimRef;
  if (ref) {
    if (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace) return false;
    if (ref.uid && ref.uid !== pvc.metadata?.uid) return false;
  } else if (pv.status?.phase && pv.status.phase !== "Available" && pv.status.phase !== "Pending")
    return false;
  if ((pv.spec?.storageClassName ?? "") !== claimClass(pvc)) return false;
  if ((pv.spec?.volumeMode ?? "Filesystem") !== (pvc.spec?.volumeMode ?? "Filesystem")) return false;
  if (!accessModesFit(pv, pvc)) return false;
  return (parseQuantity(pv.spec?.capacity?.storage as string | undefined) || 0) >= requestedBytes(pvc);
}

/** Every access mode the claim asks for is one the volume offers (upstream's CheckAccessModes). */
export function accessModesFit(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** The smallest fitting volume; one pre-bound to the claim wins. */
export function bestVolume<T extends PersistentVolume>(
  volumes: T[],
  pvc: PersistentVolumeClaim,
): T | undefined {
  const fits = volumes.filter((pv) => volumeFits(pv, pvc));
  const preBound = fits.find((pv) => pv.spec?.claimRef);
  if (preBound) return preBound;
  const size = (pv: PersistentVolume) => parseQuantity(pv.spec?.capacity?.storage as string | undefined) || 0;
  return fits.sort((a, b) => size(a) - size(b))[0];
}

/** The default StorageClass (the newest marked one, as Kubernetes picks among several). */
export function defaultClass<T extends StorageClass>(classes: T[]): T | undefined {
  return classes
    .filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true")
    .sort((a, b) =>
      (b.metadata?.creationTimestamp ?? "").localeCompare(a.metadata?.creationTimestamp ?? ""),
    )[0];
}

/** Claim names a pod mounts. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
  );
}

/** A pod that still needs its claims (the pvc-protection controller's podUsesPVC): not finished. */
export function podHoldsClaims(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}
