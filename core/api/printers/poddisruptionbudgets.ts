import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Min Available",
      "string",
      'The minimum number of pods that must be available simultaneously. This can be either an integer or a string specifying a percentage, e.g. "28%".',
    ),
    column(
      "Max Unavailable",
      "string",
      'The maximum number of pods that may be unavailable simultaneously. This can be either an integer or a string specifying a percentage, e.g. "28%".',
    ),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    ageColumn,
  ],
  cells(obj, now) {
    const pdb = obj as unknown as PodDisruptionBudget;
    const text = (v: number | string | undefined) => (v === undefined ? "N/A" : String(v));
    return [
      pdb.metadata?.name,
      text(pdb.spec?.minAvailable),
      text(pdb.spec?.maxUnavailable),
      pdb.status?.disruptionsAllowed ?? 0,
      since(pdb.metadata?.creationTimestamp, now),
    ];
  },
};
