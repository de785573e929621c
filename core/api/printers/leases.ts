import type { Lease } from "kubernetes-types/coordination/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const leasePrinter: Printer = {
  columns: [
    nameColumn,
    column("Holder", "string", "holderIdentity contains the identity of the holder of a current lease."),
    ageColumn,
  ],
  cells(obj, now) {
    const lease = obj as unknown as Lease;
    return [
      lease.metadata?.name,
      lease.spec?.holderIdentity ?? "",
      since(lease.metadata?.creationTimestamp, now),
    ];
  },
};
