import type { Secret } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const secretPrinter: Printer = {
  columns: [
    nameColumn,
    column("Type", "string", "The type of the secret"),
    column("Data", "integer", "The number of entries in the secret"),
    ageColumn,
  ],
  cells(obj, now) {
    const s = obj as unknown as Secret;
    const count = Object.keys(s.data ?? {}).length + Object.keys(s.stringData ?? {}).length;
    return [s.metadata?.name, s.type ?? "Opaque", count, since(s.metadata?.creationTimestamp, now)];
  },
};
