import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname } from "node:path";
import { type Mount, RuntimeError } from "../../core/seams/container-runtime.ts";
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
      checkHostPath(m.volume, base, src.hostPathType ?? "");
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
  return subPathIn(m.volume, base, m.subPath);
}

/**
 * A subPath must stay inside its volume even when a container planted a symlink there (the
 * kubelet's subPath CVEs): `..` is refused and the resolved path is checked against the volume.
 */
function subPathIn(volume: string, base: string, subPath: string): string {
  const fail = (why: string) => {
    throw new RuntimeError("CreateContainerConfigError", `volume "${volume}": subPath "${subPath}" ${why}`);
  };
  if (subPath.startsWith("/") || subPath.split("/").includes(".."))
    fail("must be a relative path without '..'");
  const sub = `${base}/${subPath}`;
  if (!existsSync(sub)) mkdirSync(sub, { recursive: true });
  const real = realpathSync(sub);
  const realBase = realpathSync(base);
  if (real !== realBase && !real.startsWith(`${realBase}/`))
    fail("leads out of the volume (through a symlink)");
  return real;
}

/** The kubelet's hostPath `type` checks; a failure keeps the pod in ContainerCreating (FailedMount). */
function checkHostPath(volume: string, path: string, type: string): void {
  if (type === "DirectoryOrCreate") mkdirSync(path, { recursive: true, mode: 0o755 });
  if (type === "FileOrCreate" && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, "a", 0o644));
  }
  const want: Record<string, [(s: Stats) => boolean, string]> = {
    DirectoryOrCreate: [(s) => s.isDirectory(), "a directory"],
    Directory: [(s) => s.isDirectory(), "a directory"],
    FileOrCreate: [(s) => s.isFile(), "a file"],
    File: [(s) => s.isFile(), "a file"],
    Socket: [(s) => s.isSocket(), "a socket file"],
    CharDevice: [(s) => s.isCharacterDevice(), "a character device"],
    BlockDevice: [(s) => s.isBlockDevice(), "a block device"],
  };
  const check = want[type];
  if (!check) return;
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {}
  if (!st || !check[0](st)) {
    throw new RuntimeError(
      "ContainerCreating",
      `MountVolume.SetUp failed for volume "${volume}" : hostPath type check failed: ${path} is not ${check[1]}`,
    );
  }
}

/** Unmounts the pod's memory-backed volumes (disk ones go with the pod dir). */
export function releaseVolumes(dirs: VolumeDirs): void {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (mp?.startsWith(`${dirs.mem}/`)) umount(mp);
  }
}

/** Rewrites files of a materialised "files" volume, each through a rename so readers never see half a file. */
export function updateVolumeFiles(dirs: VolumeDirs, volume: string, files: Record<string, string>): void {
  const base = `${dirs.disk}/${volume}`;
  if (!existsSync(base)) return;
  for (const [rel, content] of Object.entries(files)) {
    if (rel.startsWith("/") || rel.split("/").includes("..")) continue;
    const file = `${base}/${rel}`;
    const mode = existsSync(file) ? statSync(file).mode & 0o7777 : 0o644;
    const tmp = `${dirname(file)}/.${rel.split("/").pop()}.tmp`;
    writeFileSync(tmp, content, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  }
}
