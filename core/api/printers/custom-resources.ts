import type { PrinterColumn } from "../../crd/types.ts";
import type { KubeObject } from "../../object.ts";
import { since } from "./human-duration.ts";
import { type ColumnDefinition, nameColumn, type Printer } from "./printer.ts";

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/**
 * The Table of a custom resource from its version's additionalPrinterColumns (NAME, then the
 * columns; AGE alone when there are none), as kube-apiserver's CRD table convertor builds it:
 * dates become ages, missing values empty cells.
 */
export function customResourcePrinter(columns: PrinterColumn[] | undefined): Printer {
  const list = columns?.length ? columns : [AGE];
  return {
    columns: [
      nameColumn,
      ...list.map(
        (c): ColumnDefinition => ({
          name: c.name,
          type: c.type as ColumnDefinition["type"],
          format: c.format ?? "",
          description: c.description ?? "",
          priority: c.priority && c.priority > 0 ? 1 : 0,
        }),
      ),
    ],
    cells(obj: KubeObject, now: number) {
      return [
        obj.metadata.name,
        ...list.map((c) => {
          const value = jsonPathValue(obj, c.jsonPath);
          if (value === undefined || value === null) return null;
          if (c.type === "date" && typeof value === "string") return since(value, now);
          return typeof value === "object" ? JSON.stringify(value) : value;
        }),
      ];
    },
  };
}

/** The simple JSONPath of printer columns: `.spec.a.b`, `.spec.list[0].x`, `.metadata.labels['app.kubernetes.io/name']`. */
export function jsonPathValue(obj: unknown, path: string): unknown {
  const tokens = path.replace(/^\{|\}$/g, "").match(/\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g);
  let v: unknown = obj;
  for (const t of tokens ?? []) {
    if (v === null || typeof v !== "object") return undefined;
    const key = t.startsWith(".")
      ? t.slice(1)
      : t.startsWith("['") || t.startsWith('["')
        ? t.slice(2, -2)
        : Number(t.slice(1, -1));
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}
