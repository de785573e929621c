import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mountPoints } from "../host/mounts.ts";
import { holderPidFile } from "./crun-namespace.ts";
import { type SandboxPaths, sandboxPaths } from "./pod-sandbox.ts";
import type { VolumeDirs } from "./pod-volumes.ts";

/**
 * Where CrunRuntime keeps things under its data dir:
 *
 *   run/                  shared bind mount (its mounts propagate into crun's mount namespace)
 *     crun/               crun --root
 *     pods/<uid>/         net, ipc, uts (nsfs bind mounts), shm (tmpfs), volumes/<memory emptyDir>
 *     rootfs/<id>         merged overlay of each container
 *   pods/<uid>/           sandbox.json, init/ (etc/hosts, hostname, resolv.conf), volumes/<name>
 *   containers/<id>/      container.json, config.json, init.pid, upper/, work/, container.log(.1 … .4), crun.log,
 *                         stdout (the FIFO the container writes its output into), stdin (a FIFO,
 *                         for containers with `stdin`)
 *   l/                    short aliases of long layer paths (overlay mount data is one page)
 */
export interface DataLayout {
  runDir: string;
  crunRoot: string;
  aliasDir: string;
  podsDir: string;
  containersDir: string;
  pod(uid: string): string;
  initLayer(uid: string): string;
  sandbox(uid: string): SandboxPaths;
  volumes(uid: string): VolumeDirs;
  container(id: string): string;
  rootfs(id: string): string;
  log(id: string): string;
  logPipe(id: string): string;
  stdin(id: string): string;
}

export function dataLayout(dataDir: string): DataLayout {
  const runDir = `${dataDir}/run`;
  const pod = (uid: string) => `${dataDir}/pods/${uid}`;
  const container = (id: string) => `${dataDir}/containers/${id}`;
  return {
    runDir,
    crunRoot: `${runDir}/crun`,
    aliasDir: `${dataDir}/l`,
    podsDir: `${dataDir}/pods`,
    containersDir: `${dataDir}/containers`,
    pod,
    initLayer: (uid) => `${pod(uid)}/init`,
    sandbox: (uid) => sandboxPaths(`${runDir}/pods/${uid}`),
    volumes: (uid) => ({ disk: `${pod(uid)}/volumes`, mem: `${runDir}/pods/${uid}/volumes` }),
    container,
    rootfs: (id) => `${runDir}/rootfs/${id}`,
    log: (id) => `${container(id)}/container.log`,
    logPipe: (id) => `${container(id)}/stdout`,
    stdin: (id) => `${container(id)}/stdin`,
  };
}

/**
 * After a host reboot the run dir's mounts are gone but a disk-backed run dir still holds crun's
 * state of containers that no longer exist (crun would refuse their ids). Wipes it when the boot
 * id changed — and only when nothing is mounted below it.
 */
export function clearRunDirAfterReboot(layout: DataLayout, bootId: string): boolean {
  const file = `${layout.runDir}/boot-id`;
  mkdirSync(layout.runDir, { recursive: true });
  const previous = existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
  let cleared = false;
  if (previous !== undefined && previous !== bootId) {
    const mounted = mountPoints().some((m) => m.startsWith(`${layout.runDir}/`));
    if (!mounted) {
      for (const d of [layout.crunRoot, `${layout.runDir}/rootfs`, `${layout.runDir}/pods`]) {
        rmSync(d, { recursive: true, force: true });
      }
      rmSync(holderPidFile(layout.runDir), { force: true });
      cleared = true;
    }
  }
  writeFileSync(file, bootId);
  return cleared;
}
