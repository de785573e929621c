import type { ReplicaSet } from "kubernetes-types/apps/v1";
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

export const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    column("Desired", "integer", "Replicas is the number of desired replicas."),
    column("Current", "integer", "Replicas is the most recently observed number of replicas."),
    column("Ready", "integer", "The number of ready replicas for this replica set."),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(obj, now) {
    const rs = obj as unknown as ReplicaSet;
    return [
      rs.metadata?.name,
      rs.spec?.replicas ?? 0,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      since(rs.metadata?.creationTimestamp, now),
      ...templateCells(rs.spec?.template),
      selectorString(rs.spec?.selector),
    ];
  },
};
