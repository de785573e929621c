import { readdirSync } from "node:fs";
import type { ContainerInspection, LayerView } from "../../core/seams/inspection.ts";
import { type CgroupHost, cgroupDir } from "../cgroups/cgroup-host.ts";
import { readCgroupLimits } from "../cgroups/cgroup-limits.ts";
import { imageDetails } from "../image/image-details.ts";
import type { ResolvedImage } from "../image/image-store.ts";
import type { DataLayout } from "./data-layout.ts";
import { overlayChanges } from "./overlay-changes.ts";
import { pidInContainer, processNamespaces, rootOverlayMount } from "./process-namespaces.ts";
import { overlayOptions } from "./rootfs.ts";
import type { ContainerRecord } from "./runtime-records.ts";

export interface InspectInputs {
  record: ContainerRecord;
  layout: DataLayout;
  cgroups: CgroupHost;
  /** The container's image, if still present. */
  image?: ResolvedImage;
}

/**
 * A container the way the article draws it: namespaces, cgroup limits and the layered rootfs,
 * each read back from the kernel and the disk. An exited container has no process, so no
 * namespaces, but its layers and upper dir are still there.
 */
export function inspectContainer({ record: r, layout, cgroups, image }: InspectInputs): ContainerInspection {
  const notes: string[] = [];
  const running = r.state === "running" && r.pid !== undefined;
  if (!running)
    notes.push(`container ${r.name} is ${r.state}: no process, so no namespaces; layers as it left them`);

  const sandbox = layout.sandbox(r.podUid);
  const namespaces = running
    ? processNamespaces(r.pid!, { net: sandbox.net, ipc: sandbox.ipc, uts: sandbox.uts })
    : [];
  const limitsReadable = cgroupDir(cgroups, "pids", r.cgroupPath) !== undefined;
  const cgroup = running && limitsReadable ? readCgroupLimits(cgroups, r.cgroupPath) : undefined;
  if (running && !cgroup) notes.push("the cgroup hierarchy is not mounted where minik can read it");

  const upper = `${layout.container(r.id)}/upper`;
  const initLayer = layout.initLayer(r.podUid);
  const imageLayers = imageLayerViews(image, notes);
  const lowerTopFirst = [initLayer, ...imageLayers.map((l) => l.dir)];
  const layers: LayerView[] = [
    { role: "container", dir: upper },
    { role: "init", dir: initLayer, files: filesBelow(initLayer) },
    ...imageLayers,
  ];
  const mount =
    (running && rootOverlayMount(r.pid!)) ||
    overlayOptions(lowerTopFirst, upper, `${layout.container(r.id)}/work`);
  return {
    id: r.id,
    name: r.name,
    state: r.state,
    image: r.image,
    ...(running ? { pid: { host: r.pid!, inContainer: pidInContainer(r.pid!) } } : {}),
    namespaces,
    ...(cgroup ? { cgroup } : {}),
    rootfs: { layers, changes: overlayChanges(upper, lowerTopFirst), mount },
    notes,
  };
}

/** Image layers top first (overlay's order), with the history line that made each. */
function imageLayerViews(image: ResolvedImage | undefined, notes: string[]): LayerView[] {
  if (!image) {
    notes.push("the container's image is no longer present: its layers cannot be listed");
    return [];
  }
  const details = imageDetails(image);
  return details.layers
    .map((l, i) => ({
      role: "image" as const,
      dir: image.layerDirs[i]!,
      digest: l.diffId,
      sizeBytes: l.sizeBytes,
      ...(l.createdBy ? { createdBy: l.createdBy } : {}),
    }))
    .reverse();
}

/** Files of the small init layer (etc/hosts, etc/hostname, etc/resolv.conf). */
function filesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `${e.parentPath.slice(dir.length)}/${e.name}`)
      .sort();
  } catch {
    return [];
  }
}
