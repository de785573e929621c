import { readFileSync, writeFileSync } from "node:fs";
import type { ContainerConfig, HostNamespaces } from "../../core/seams/container-runtime.ts";
import { RuntimeError } from "../../core/seams/container-runtime.ts";
import type { ResolvedImage } from "../image/image-store.ts";
import { containerArgv, containerEnv } from "../oci/process.ts";
import { buildOciSpec } from "../oci/spec.ts";
import type { DataLayout } from "./data-layout.ts";
import { resolveImageUser } from "./image-user.ts";
import { materializeVolume } from "./pod-volumes.ts";
import { mountRootfs } from "./rootfs.ts";

/**
 * Everything `crun run` needs on disk for one container: the overlay rootfs mounted, the pod's
 * volumes materialised, and config.json written from the image config merged with the pod spec.
 * Errors a user can fix come out as RuntimeError with the kubelet's reason.
 */
export interface BundleInput {
  layout: DataLayout;
  id: string;
  config: ContainerConfig;
  image: ResolvedImage;
  hostname: string;
  /** What the pod's sandbox shares with the host (its record's hostNamespaces). */
  host?: HostNamespaces;
  cgroupsPath: string;
  nofileHardLimit: number;
  swapAccounting: boolean;
}

/** The host side of the container's terminationMessagePath: read into status.message at exit. */
export function terminationLog(layout: DataLayout, id: string): string {
  return `${layout.container(id)}/termination-log`;
}

/** What the container wrote to its termination message file (at most 4 KiB, as the kubelet). */
export function readTerminationMessage(layout: DataLayout, id: string): string | undefined {
  try {
    const text = readFileSync(terminationLog(layout, id), "utf8").slice(0, 4096);
    return text || undefined;
  } catch {
    return undefined;
  }
}

export function prepareBundle(b: BundleInput): void {
  const { layout, id, config: c, image } = b;
  const argv = containerArgv(image.config, c.command, c.args);
  if (argv.length === 0) {
    throw new RuntimeError(
      "CreateContainerError",
      `container ${c.name}: no command specified (the image has neither ENTRYPOINT nor CMD)`,
    );
  }
  let user: { uid: number; gid: number };
  try {
    user = resolveImageUser(image.config.User, image.layerDirs);
  } catch (e) {
    throw new RuntimeError("CreateContainerConfigError", `container ${c.name}: ${(e as Error).message}`);
  }
  const dir = layout.container(id);
  const target = layout.rootfs(id);
  mountRootfs({
    layers: image.layerDirs,
    initLayer: layout.initLayer(c.podUid),
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    target,
    aliasDir: layout.aliasDir,
  });
  const p = layout.sandbox(c.podUid);
  const termination = c.terminationMessagePath
    ? [{ destination: c.terminationMessagePath, source: terminationLog(layout, id), readOnly: false }]
    : [];
  if (termination.length) writeFileSync(terminationLog(layout, id), "", { mode: 0o666 });
  const mounts = [
    // hostIPC: the host's /dev/shm, which belongs to its IPC namespace
    { destination: "/dev/shm", source: b.host?.ipc ? "/dev/shm" : p.shm, readOnly: false },
    ...termination,
    ...c.mounts.map((m) => ({
      destination: m.containerPath,
      source: materializeVolume(layout.volumes(c.podUid), m),
      readOnly: m.readOnly,
    })),
  ];
  const spec = buildOciSpec({
    rootfs: target,
    args: argv,
    env: containerEnv(image.config, c.env, { HOSTNAME: b.hostname, ...(c.tty ? { TERM: "xterm" } : {}) }),
    cwd: c.workingDir || image.config.WorkingDir || "/",
    user,
    hostname: b.hostname,
    namespaces: { network: p.net, ipc: p.ipc, uts: p.uts },
    ...(b.host ? { host: b.host } : {}),
    cgroupsPath: b.cgroupsPath,
    resources: c.resources,
    security: c.security,
    mounts,
    nofileHardLimit: b.nofileHardLimit,
    swapAccounting: b.swapAccounting,
    annotations: { "io.kubernetes.pod.uid": c.podUid, "io.kubernetes.container.name": c.name },
  });
  writeFileSync(`${dir}/config.json`, JSON.stringify(spec));
}
