import type { ControllerRevision, DaemonSet, StatefulSet } from "kubernetes-types/apps/v1";
import { since } from "./human-duration.ts";
import {
  ageColumn,
  column,
  containersColumn,
  imagesColumn,
  mapString,
  nameColumn,
  type Printer,
  selectorColumn,
  selectorString,
  templateCells,
} from "./printer.ts";

/** StatefulSet, DaemonSet and ControllerRevision rows, as kubectl 1.32 prints them. */

export const statefulSetPrinter: Printer = {
  columns: [
    nameColumn,
    column("Ready", "string", "Number of the pod with ready state"),
    ageColumn,
    containersColumn,
    imagesColumn,
  ],
  cells(obj, now) {
    const sts = obj as unknown as StatefulSet;
    return [
      sts.metadata?.name,
      `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`,
      since(sts.metadata?.creationTimestamp, now),
      ...templateCells(sts.spec?.template),
    ];
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
    column(
      "Current",
      "integer",
      "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    column(
      "Ready",
      "integer",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    column(
      "Available",
      "integer",
      "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
    ),
    column(
      "Node Selector",
      "string",
      "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(obj, now) {
    const ds = obj as unknown as DaemonSet;
    const s = ds.status;
    return [
      ds.metadata?.name,
      s?.desiredNumberScheduled ?? 0,
      s?.currentNumberScheduled ?? 0,
      s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0,
      mapString(ds.spec?.template?.spec?.nodeSelector),
      since(ds.metadata?.creationTimestamp, now),
      ...templateCells(ds.spec?.template),
      selectorString(ds.spec?.selector),
    ];
  },
};

export const controllerRevisionPrinter: Printer = {
  columns: [
    nameColumn,
    column("Controller", "string", "Controller of the object, with the form <kind>/<name>"),
    column("Revision", "integer", "Revision indicates the revision of the state represented by Data."),
    ageColumn,
  ],
  cells(obj, now) {
    const rev = obj as unknown as ControllerRevision;
    const owner = rev.metadata?.ownerReferences?.find((r) => r.controller);
    const group = owner?.apiVersion.includes("/") ? `.${owner.apiVersion.split("/")[0]}` : "";
    return [
      rev.metadata?.name,
      owner ? `${owner.kind.toLowerCase()}${group}/${owner.name}` : "<none>",
      rev.revision,
      since(rev.metadata?.creationTimestamp, now),
    ];
  },
};
