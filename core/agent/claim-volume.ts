import type {
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeClaimVolumeSource,
} from "kubernetes-types/core/v1";
import { RuntimeError, type VolumeSource } from "../seams/container-runtime.ts";

/** How the agent reads claims and volumes (the client, through the agent's sources). */
export interface ClaimSources {
  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
}

function notReady(volume: string, message: string): RuntimeError {
  return new RuntimeError(
    "ContainerCreating",
    `MountVolume.SetUp failed for volume "${volume}" : ${message}`,
  );
}

/**
 * A `persistentVolumeClaim` pod volume as the directory of its bound PersistentVolume (hostPath
 * or local). Until the claim is Bound the pod stays in ContainerCreating and is retried, as the
 * kubelet waits for the volume to attach.
 */
export async function resolveClaimVolume(
  volume: string,
  namespace: string,
  source: PersistentVolumeClaimVolumeSource,
  sources: ClaimSources,
): Promise<VolumeSource> {
  const claim = await sources.persistentVolumeClaim(namespace, source.claimName);
  if (!claim) throw notReady(volume, `persistentvolumeclaim "${source.claimName}" not found`);
  if (claim.metadata?.deletionTimestamp)
    throw notReady(volume, `persistentvolumeclaim "${source.claimName}" is being deleted`);
  const pvName = claim.spec?.volumeName;
  if (!pvName || claim.status?.phase !== "Bound")
    throw notReady(volume, `persistentvolumeclaim "${source.claimName}" is not bound yet`);
  const pv = await sources.persistentVolume(pvName);
  if (!pv) throw notReady(volume, `persistentvolume "${pvName}" not found`);
  // The pod asked for the claim read-only (as with a ReadOnlyMany claim): every mount is.
  const readOnly = source.readOnly ? { readOnly: true } : {};
  if (pv.spec?.hostPath)
    return {
      type: "hostPath",
      path: pv.spec.hostPath.path,
      hostPathType: pv.spec.hostPath.type || undefined,
      ...readOnly,
    };
  if (pv.spec?.local)
    return { type: "hostPath", path: pv.spec.local.path, hostPathType: "Directory", ...readOnly };
  throw notReady(
    volume,
    `persistentvolume "${pvName}" has no volume type minik can mount (hostPath or local)`,
  );
}
