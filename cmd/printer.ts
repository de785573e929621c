import { stringify } from "yaml";
import type { KubeObject } from "../core/object.ts";

/** The parts of a meta.k8s.io/v1 Table the CLI prints; the server computes every cell. */
export interface Table {
  columnDefinitions: { name: string; type: string; format?: string; priority?: number }[];
  rows: { cells: unknown[]; object?: KubeObject }[];
  metadata?: { resourceVersion?: string };
}

export interface TableStyle {
  wide?: boolean;
  withNamespace?: boolean;
  /** `kind/` prefix on names, as kubectl does when several kinds are printed. */
  kindPrefix?: string;
  showLabels?: boolean;
  noHeaders?: boolean;
}

/** Turns a server Table into rows of strings (header first unless noHeaders). */
export function tableRows(table: Table, style: TableStyle): string[][] {
  const cols = table.columnDefinitions
    .map((c, i) => ({ ...c, i }))
    .filter((c) => style.wide || (c.priority ?? 0) === 0);
  const rows: string[][] = [];
  if (!style.noHeaders) {
    const head = cols.map((c) => c.name.toUpperCase());
    if (style.withNamespace) head.unshift("NAMESPACE");
    if (style.showLabels) head.push("LABELS");
    rows.push(head);
  }
  for (const row of table.rows) {
    const cells = cols.map((c) => {
      const v = row.cells[c.i];
      const text = v === null || v === undefined || v === "" ? "<none>" : String(v);
      return c.format === "name" && style.kindPrefix ? `${style.kindPrefix}/${text}` : text;
    });
    if (style.withNamespace) cells.unshift(row.object?.metadata?.namespace ?? "");
    if (style.showLabels) cells.push(labelsText(row.object?.metadata?.labels));
    rows.push(cells);
  }
  return rows;
}

/** Aligns columns like kubectl's tabwriter (three spaces between columns). */
/** Aligned columns, `gap` spaces apart (kubectl's tables 3; its rollout history 2). */
export function formatColumns(rows: string[][], widths?: number[], gap = 3): string {
  const w = widths ?? columnWidths(rows);
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + gap)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

export function columnWidths(rows: string[][]): number[] {
  const w: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      w[i] = Math.max(w[i] ?? 0, c.length);
    });
  }
  return w;
}

function labelsText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
}

export function printObjects(objects: KubeObject[], output: "yaml" | "json", asList: boolean): string {
  // managedFields are left out, as kubectl leaves them out unless --show-managed-fields
  const shown = objects.map(withoutManagedFields);
  const value = asList
    ? { apiVersion: "v1", kind: "List", items: shown, metadata: { resourceVersion: "" } }
    : shown[0];
  return output === "json" ? JSON.stringify(value, null, 4) : stringify(value).trimEnd();
}

function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!obj?.metadata?.managedFields) return obj;
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}
