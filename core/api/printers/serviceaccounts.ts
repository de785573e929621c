import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const serviceAccountPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Secrets",
      "integer",
      "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    ageColumn,
  ],
  cells(obj, now) {
    return [
      obj.metadata.name,
      ((obj.secrets as unknown[]) ?? []).length,
      since(obj.metadata.creationTimestamp, now),
    ];
  },
};
