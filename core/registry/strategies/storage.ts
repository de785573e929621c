import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { deepEqual } from "../../patch/deep-equal.ts";
import { PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER } from "../../storage/storage-names.ts";
import { type Causes, forbidden, immutable, notSupported, required } from "../../validation/causes.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { BINDING_MODES, validateClaimSpec, validateVolumeSpec } from "../../validation/storage.ts";
import { as, type Strategy } from "../strategy.ts";

function addFinalizer(meta: { finalizers?: string[] }, name: string): void {
  if (!meta.finalizers?.includes(name)) meta.finalizers = [...(meta.finalizers ?? []), name];
}

/**
 * PersistentVolumeClaim: born Pending with the pvc-protection finalizer (kube-apiserver's
 * StorageObjectInUseProtection admission); after creation only the storage request may change,
 * and a class or volume may be filled in once (the PV controller binds and assigns the default class).
 */
export const persistentVolumeClaimStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: false,
  prepareForCreate(obj) {
    as<PersistentVolumeClaim>(obj).status = { phase: "Pending" };
    addFinalizer(obj.metadata, PVC_PROTECTION_FINALIZER);
  },
  defaults(obj) {
    const spec = as<PersistentVolumeClaim>(obj).spec;
    if (spec) spec.volumeMode ??= "Filesystem";
  },
  validate: (obj) => validateClaimSpec(as<PersistentVolumeClaim>(obj).spec),
  validateUpdate(obj, old) {
    const spec = { ...as<PersistentVolumeClaim>(obj).spec };
    const was = { ...as<PersistentVolumeClaim>(old).spec };
    // What may change: the storage request, and unset → set of storageClassName / volumeName.
    for (const s of [spec, was]) delete s.resources;
    for (const once of ["storageClassName", "volumeName"] as const) {
      if (was[once]) continue;
      delete spec[once];
      delete was[once];
    }
    if (deepEqual(spec, was)) return [];
    return [
      forbidden(
        "spec",
        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
      ),
    ];
  },
};

/** PersistentVolume: Pending until the PV controller sees it, pv-protection, reclaim policy Retain by default. */
export const persistentVolumeStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: false,
  prepareForCreate(obj) {
    as<PersistentVolume>(obj).status = { phase: "Pending" };
    addFinalizer(obj.metadata, PV_PROTECTION_FINALIZER);
  },
  defaults(obj) {
    const spec = as<PersistentVolume>(obj).spec;
    if (!spec) return;
    spec.persistentVolumeReclaimPolicy ??= "Retain";
    spec.volumeMode ??= "Filesystem";
  },
  validate: (obj) => validateVolumeSpec(as<PersistentVolume>(obj).spec),
  validateUpdate(obj, old) {
    const spec = as<PersistentVolume>(obj).spec;
    const was = as<PersistentVolume>(old).spec;
    const causes: Causes = [];
    for (const f of ["hostPath", "local", "volumeMode"] as const)
      if (!deepEqual(spec?.[f], was?.[f])) causes.push(immutable(`spec.${f}`, spec?.[f]));
    return causes;
  },
};

/** StorageClass: no spec; provisioner, parameters, reclaimPolicy and volumeBindingMode are fixed once set. */
export const storageClassStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: false,
  defaults(obj) {
    const sc = as<StorageClass>(obj);
    sc.reclaimPolicy ??= "Delete";
    sc.volumeBindingMode ??= "Immediate";
  },
  validate(obj) {
    const sc = as<StorageClass>(obj);
    const causes: Causes = [];
    if (!sc.provisioner) causes.push(required("provisioner"));
    if (sc.reclaimPolicy && !["Retain", "Delete"].includes(sc.reclaimPolicy))
      causes.push(notSupported("reclaimPolicy", sc.reclaimPolicy, ["Delete", "Retain"]));
    if (sc.volumeBindingMode && !BINDING_MODES.includes(sc.volumeBindingMode))
      causes.push(notSupported("volumeBindingMode", sc.volumeBindingMode, BINDING_MODES));
    return causes;
  },
  validateUpdate(obj, old) {
    const causes: Causes = [];
    for (const f of ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"] as const) {
      const now = (obj as Record<string, unknown>)[f];
      if (!deepEqual(now, (old as Record<string, unknown>)[f]))
        causes.push(forbidden(f, `updates to ${f} are forbidden.`));
    }
    return causes;
  },
};
