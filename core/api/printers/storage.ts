import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { DEFAULT_CLASS_ANNOTATION } from "../../storage/storage-names.ts";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

/** PersistentVolume, PersistentVolumeClaim and StorageClass rows, as kubectl 1.32 prints them. */

const MODE_SHORT: Record<string, string> = {
  ReadWriteOnce: "RWO",
  ReadOnlyMany: "ROX",
  ReadWriteMany: "RWX",
  ReadWriteOncePod: "RWOP",
};

export function accessModesString(modes: readonly string[] | undefined): string {
  return (modes ?? []).map((m) => MODE_SHORT[m] ?? m).join(",");
}

const accessModesColumn = column(
  "Access Modes",
  "string",
  "AccessModes contains the desired access modes the volume should have.",
);
const storageClassColumn = column(
  "StorageClass",
  "string",
  "StorageClassName is the name of the StorageClass.",
);
const attributesClassColumn = column("VolumeAttributesClass", "string", "Name of the VolumeAttributesClass.");
const volumeModeColumn = column(
  "VolumeMode",
  "string",
  "volumeMode defines what type of volume is required.",
  1,
);

export const persistentVolumePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Capacity",
      "string",
      "capacity is the description of the persistent volume's resources and capacity.",
    ),
    accessModesColumn,
    column(
      "Reclaim Policy",
      "string",
      "persistentVolumeReclaimPolicy defines what happens to a volume when released.",
    ),
    column(
      "Status",
      "string",
      "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    column(
      "Claim",
      "string",
      "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    storageClassColumn,
    attributesClassColumn,
    column("Reason", "string", "reason is a brief CamelCase string that describes any failure."),
    ageColumn,
    volumeModeColumn,
  ],
  cells(obj, now) {
    const pv = obj as unknown as PersistentVolume;
    const claim = pv.spec?.claimRef;
    return [
      pv.metadata?.name,
      String(pv.spec?.capacity?.storage ?? ""),
      accessModesString(pv.spec?.accessModes),
      pv.spec?.persistentVolumeReclaimPolicy ?? "",
      pv.metadata?.deletionTimestamp ? "Terminating" : (pv.status?.phase ?? ""),
      claim ? `${claim.namespace}/${claim.name}` : "",
      pv.spec?.storageClassName ?? "",
      pv.spec?.volumeAttributesClassName || "<unset>",
      pv.status?.reason ?? "",
      since(pv.metadata?.creationTimestamp, now),
      pv.spec?.volumeMode ?? "",
    ];
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    nameColumn,
    column("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    column(
      "Volume",
      "string",
      "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    column("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    accessModesColumn,
    storageClassColumn,
    attributesClassColumn,
    ageColumn,
    volumeModeColumn,
  ],
  cells(obj, now) {
    const pvc = obj as unknown as PersistentVolumeClaim;
    const bound = pvc.status?.phase === "Bound";
    return [
      pvc.metadata?.name,
      pvc.metadata?.deletionTimestamp ? "Terminating" : (pvc.status?.phase ?? ""),
      pvc.spec?.volumeName ?? "",
      bound ? String(pvc.status?.capacity?.storage ?? "") : "",
      bound ? accessModesString(pvc.status?.accessModes) : "",
      pvc.spec?.storageClassName ?? "",
      pvc.spec?.volumeAttributesClassName || "<unset>",
      since(pvc.metadata?.creationTimestamp, now),
      pvc.spec?.volumeMode ?? "",
    ];
  },
};

export const storageClassPrinter: Printer = {
  columns: [
    nameColumn,
    column("Provisioner", "string", "Indicates the type of the provisioner."),
    column(
      "ReclaimPolicy",
      "string",
      "Dynamically provisioned PersistentVolumes of this storage class are created with this reclaimPolicy.",
    ),
    column(
      "VolumeBindingMode",
      "string",
      "VolumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    column(
      "AllowVolumeExpansion",
      "string",
      "AllowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    ageColumn,
  ],
  cells(obj, now) {
    const sc = obj as unknown as StorageClass;
    const isDefault = sc.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true";
    return [
      `${sc.metadata?.name}${isDefault ? " (default)" : ""}`,
      sc.provisioner,
      sc.reclaimPolicy ?? "Delete",
      sc.volumeBindingMode ?? "Immediate",
      String(sc.allowVolumeExpansion ?? false),
      since(sc.metadata?.creationTimestamp, now),
    ];
  },
};
