/**
 * The node's side of the built-in local-path provisioner: one directory per provisioned volume
 * under the data dir. The PV controller (core/controllers/persistent-volume-controller.ts) asks
 * for a directory when it provisions a claim and removes it when a volume with reclaim policy
 * Delete is released; runtime/storage/local-path-volumes.ts implements it on the host.
 */
export interface LocalVolumes {
  /**
   * Creates (or finds, after a restart) the directory of a volume and returns its host path.
   * `dirName` is one path segment (see localVolumeDirName); anything else is refused.
   */
  create(dirName: string): Promise<string>;
  /** Removes a volume's directory and its content; a path outside the storage root is refused. */
  remove(path: string): Promise<void>;
  /** Bytes free on the storage root's filesystem (a larger request cannot be provisioned). */
  availableBytes(): Promise<number>;
}
