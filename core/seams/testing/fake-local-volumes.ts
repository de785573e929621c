import type { LocalVolumes } from "../local-volumes.ts";
import { isVolumeDirName } from "../volume-dir.ts";

/** LocalVolumes in memory: which directories exist, under a pretend root. */
export interface FakeLocalVolumes extends LocalVolumes {
  readonly root: string;
  readonly dirs: Set<string>;
  /** Free bytes reported (default 10 GiB). */
  free: number;
}

export function createFakeLocalVolumes(root = "/var/lib/minik/storage"): FakeLocalVolumes {
  const fake: FakeLocalVolumes = {
    root,
    dirs: new Set(),
    free: 10 * 2 ** 30,
    async create(dirName) {
      if (!isVolumeDirName(dirName)) throw new Error(`refusing volume directory ${JSON.stringify(dirName)}`);
      const path = `${root}/${dirName}`;
      fake.dirs.add(path);
      return path;
    },
    async remove(path) {
      if (!path.startsWith(`${root}/`) || !isVolumeDirName(path.slice(root.length + 1)))
        throw new Error(`refusing to remove ${JSON.stringify(path)}`);
      fake.dirs.delete(path);
    },
    availableBytes: async () => fake.free,
  };
  return fake;
}
