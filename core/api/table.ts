import type { KubeObject } from "../object.ts";
import { type Printer, printerFor } from "./printers/index.ts";

/**
 * Server-side `meta.k8s.io/v1 Table`s: what `kubectl get` asks for (`Accept: …;as=Table;…`).
 * Cells are final text; kubectl prints them as they are. Whether a Table is wanted is the
 * Accept negotiation's call (negotiation.ts).
 */
export type IncludeObject = "None" | "Metadata" | "Object";

export function includeObjectParam(value: string | null | undefined): IncludeObject {
  return value === "None" || value === "Object" ? value : "Metadata";
}

export function toTable(
  resource: string,
  objects: KubeObject[],
  resourceVersion: string,
  options: { includeObject: IncludeObject; noHeaders?: boolean; now?: number; printer?: Printer },
) {
  const printer = options.printer ?? printerFor(resource);
  const now = options.now ?? Date.now();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    ...(options.noHeaders ? {} : { columnDefinitions: printer.columns }),
    rows: objects.map((obj) => {
      const conditions = printer.conditions?.(obj);
      return {
        cells: printer.cells(obj, now),
        ...(conditions ? { conditions } : {}),
        ...rowObject(obj, options.includeObject),
      };
    }),
  };
}

function rowObject(obj: KubeObject, include: IncludeObject) {
  if (include === "None") return {};
  if (include === "Object") return { object: obj };
  return { object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata } };
}
