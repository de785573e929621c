import { chmodSync, mkdirSync, realpathSync, rmSync, statfsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { LocalVolumes } from "../../core/seams/local-volumes.ts";
import { isVolumeDirName } from "../../core/seams/volume-dir.ts";

/** Where provisioned volumes live: `<data>/storage` (kept across restarts, removed by reset). */
export const STORAGE_DIR = "storage";

/**
 * LocalVolumes on the host: `<root>/<pv>_<ns>_<claim>`, mode 0777 like k3s's local-path
 * provisioner, so any container user can write. Removal refuses anything that is not a direct
 * child of the root (after resolving symlinks).
 */
export function createLocalPathVolumes(root: string): LocalVolumes {
  const base = resolve(root);
  const childPath = (path: string): string | undefined => {
    const abs = resolve(path);
    if (dirname(abs) !== base) return undefined;
    const name = abs.slice(base.length + 1);
    return isVolumeDirName(name) ? abs : undefined;
  };
  return {
    async create(dirName) {
      if (!isVolumeDirName(dirName)) throw new Error(`refusing volume directory ${JSON.stringify(dirName)}`);
      mkdirSync(base, { recursive: true, mode: 0o711 });
      const path = join(base, dirName);
      mkdirSync(path, { recursive: true });
      chmodSync(path, 0o777);
      return path;
    },
    async remove(path) {
      const abs = childPath(path);
      if (!abs) throw new Error(`refusing to remove ${JSON.stringify(path)}: not a volume under ${base}`);
      let real: string;
      try {
        real = realpathSync(abs);
      } catch {
        return; // already gone
      }
      if (real !== abs) throw new Error(`refusing to remove ${abs}: it is a link to ${real}`);
      rmSync(abs, { recursive: true, force: true });
    },
    async availableBytes() {
      mkdirSync(base, { recursive: true, mode: 0o711 });
      const s = statfsSync(base);
      return Number(s.bavail) * Number(s.bsize);
    },
  };
}
