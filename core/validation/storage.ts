import type { PersistentVolumeClaimSpec, PersistentVolumeSpec } from "kubernetes-types/core/v1";
import { parseQuantity } from "../quantity.ts";
import { type Causes, forbidden, invalid, notSupported, required } from "./causes.ts";

/** Access modes a volume or claim may ask for (Kubernetes 1.32). */
export const ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];
export const RECLAIM_POLICIES = ["Retain", "Delete", "Recycle"];
export const BINDING_MODES = ["Immediate", "WaitForFirstConsumer"];
const VOLUME_MODES = ["Filesystem", "Block"];

function validateAccessModes(modes: readonly string[] | undefined, field: string): Causes {
  if (!modes?.length) return [required(field)];
  const causes: Causes = [];
  for (const m of modes) if (!ACCESS_MODES.includes(m)) causes.push(notSupported(field, m, ACCESS_MODES));
  if (modes.includes("ReadWriteOncePod") && modes.length > 1)
    causes.push(forbidden(field, "may not use ReadWriteOncePod with other access modes"));
  return causes;
}

function validateStorageQuantity(value: unknown, field: string): Causes {
  if (value === undefined || value === null || value === "") return [required(field)];
  const bytes = parseQuantity(value as string);
  if (Number.isNaN(bytes)) return [invalid(field, value, "must be a quantity such as 1Gi")];
  return bytes > 0 ? [] : [invalid(field, value, "must be greater than zero")];
}

/** A claim's spec: access modes, a positive storage request, a known volume mode. */
export function validateClaimSpec(spec: PersistentVolumeClaimSpec | undefined, field = "spec"): Causes {
  if (!spec) return [required(field)];
  const causes = validateAccessModes(spec.accessModes, `${field}.accessModes`);
  causes.push(...validateStorageQuantity(spec.resources?.requests?.storage, `${field}.resources[storage]`));
  if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode))
    causes.push(notSupported(`${field}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  return causes;
}

/** A volume's spec: capacity, access modes, a reclaim policy and exactly one source minik can mount. */
export function validateVolumeSpec(spec: PersistentVolumeSpec | undefined): Causes {
  if (!spec) return [required("spec")];
  const causes = validateAccessModes(spec.accessModes, "spec.accessModes");
  causes.push(...validateStorageQuantity(spec.capacity?.storage, "spec.capacity[storage]"));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && !RECLAIM_POLICIES.includes(policy))
    causes.push(notSupported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES));
  const sources = (["hostPath", "local"] as const).filter((k) => spec[k]);
  if (sources.length === 0) causes.push(required("spec", "must specify a volume type (hostPath or local)"));
  if (sources.length > 1)
    causes.push(forbidden(`spec.${sources[1]}`, "may not specify more than 1 volume type"));
  const path = spec.hostPath?.path ?? spec.local?.path;
  if (sources.length === 1 && !path?.startsWith("/"))
    causes.push(invalid(`spec.${sources[0]}.path`, path ?? "", "must be an absolute path"));
  if (path?.split("/").includes(".."))
    causes.push(invalid(`spec.${sources[0]}.path`, path, "must not contain '..'"));
  return causes;
}
