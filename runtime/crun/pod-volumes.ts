import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Mount } from "../container-runtime.ts";
import { MS_NODEV, MS_NOSUID, mount, umount } from "../supervise/libc.ts";

/**
 * Pod volumes materialised on the host, one directory per volume name, shared by the pod's
 * containers: emptyDir on disk under the pod's data dir (medium Memory: a tmpfs under the run
 * dir), configMap/secret/downwardAPI files written out, hostPath as given. Returns the host path
 * to bind-mount.
 */
export interface VolumeDirs {
  /** Disk-backed: `<data>/pods/<uid>/volumes` */
  disk: string;
  /** Mounts (tmpfs): `<run>/pods/<uid>/volumes` — a shared mount crun's namespace sees. */
  mem: string;
}

function isMountPoint(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === path);
}

export function materializeVolume(dirs: VolumeDirs, m: Mount): string {
  const src = m.source;
  let base: string;
  switch (src.type) {
    case "emptyDir":
      if (src.medium === "Memory") {
        base = `${dirs.mem}/${m.volume}`;
        mkdirSync(base, { recursive: true });
        if (!isMountPoint(base)) {
          const size = src.sizeLimitBytes ? `,size=${src.sizeLimitBytes}` : "";
          mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, `mode=1777${size}`);
        }
      } else {
        base = `${dirs.disk}/${m.volume}`;
        if (!existsSync(base)) {
          mkdirSync(base, { recursive: true });
          chmodSync(base, 0o777);
        }
      }
      break;
    case "hostPath":
      base = src.path;
      if (src.hostPathType === "DirectoryOrCreate") mkdirSync(base, { recursive: true });
      else if (src.hostPathType === "FileOrCreate" && !existsSync(base)) {
        mkdirSync(dirname(base), { recursive: true });
        closeSync(openSync(base, "a"));
      }
      break;
    case "files":
      base = `${dirs.disk}/${m.volume}`;
      mkdirSync(base, { recursive: true });
      for (const [rel, content] of Object.entries(src.files)) {
        const file = `${base}/${rel}`;
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content, { mode: src.mode ?? 0o644 });
      }
      break;
  }
  if (!m.subPath) return base;
  const sub = `${base}/${m.subPath}`;
  if (!existsSync(sub)) mkdirSync(sub, { recursive: true });
  return sub;
}

/** Unmounts the pod's memory-backed volumes (disk ones go with the pod dir). */
export function releaseVolumes(dirs: VolumeDirs): void {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (mp?.startsWith(`${dirs.mem}/`)) umount(mp);
  }
}
