import type { ConfigMap } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const configMapPrinter: Printer = {
  columns: [nameColumn, column("Data", "integer", "Number of data entries in the ConfigMap."), ageColumn],
  cells(obj, now) {
    const cm = obj as unknown as ConfigMap;
    const count = Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length;
    return [cm.metadata?.name, count, since(cm.metadata?.creationTimestamp, now)];
  },
};
