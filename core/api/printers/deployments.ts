import type { Deployment } from "kubernetes-types/apps/v1";
import { since } from "./human-duration.ts";
import {
  ageColumn,
  column,
  containersColumn,
  imagesColumn,
  nameColumn,
  type Printer,
  selectorColumn,
  selectorString,
  templateCells,
} from "./printer.ts";

export const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    column("Ready", "string", "Number of the pod with ready state"),
    column(
      "Up-to-date",
      "integer",
      "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    column(
      "Available",
      "integer",
      "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(obj, now) {
    const d = obj as unknown as Deployment;
    return [
      d.metadata?.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      since(d.metadata?.creationTimestamp, now),
      ...templateCells(d.spec?.template),
      selectorString(d.spec?.selector),
    ];
  },
};
