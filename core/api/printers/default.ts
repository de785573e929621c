import { column, nameColumn, type Printer } from "./printer.ts";

/** Kinds without a dedicated printer: NAME and CREATED AT, as kube-apiserver's default table. */
export const defaultPrinter: Printer = {
  columns: [
    nameColumn,
    {
      ...column(
        "Created At",
        "date",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
      ),
    },
  ],
  cells(obj) {
    return [obj.metadata.name, obj.metadata.creationTimestamp ?? ""];
  },
};
