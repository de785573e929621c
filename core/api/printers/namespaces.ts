import type { Namespace } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const namespacePrinter: Printer = {
  columns: [nameColumn, column("Status", "string", "The status of the namespace"), ageColumn],
  cells(obj, now) {
    const ns = obj as unknown as Namespace;
    return [ns.metadata?.name, ns.status?.phase ?? "Active", since(ns.metadata?.creationTimestamp, now)];
  },
};
