/**
 * The directory name of a provisioned volume, as k3s's local-path-provisioner names it:
 * `<pv>_<namespace>_<claim>`. Every part is checked to be a DNS name, so a claim name can never
 * lead out of the storage root (no `/`, no `..`).
 */
const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function isSafeSegment(part: string): boolean {
  return SEGMENT.test(part) && !part.includes("..") && part.length <= 253;
}

export function localVolumeDirName(pvName: string, namespace: string, claim: string): string {
  for (const part of [pvName, namespace, claim]) {
    if (!isSafeSegment(part)) throw new Error(`unsafe volume directory part ${JSON.stringify(part)}`);
  }
  return `${pvName}_${namespace}_${claim}`;
}

/** True when `dirName` is a single safe path segment made by localVolumeDirName. */
export function isVolumeDirName(dirName: string): boolean {
  const parts = dirName.split("_");
  return parts.length === 3 && parts.every(isSafeSegment);
}
