import type { PodTemplateSpec } from "kubernetes-types/core/v1";
import type { LabelSelector } from "kubernetes-types/meta/v1";
import type { KubeObject } from "../../object.ts";

/** One column of a `meta.k8s.io/v1 Table`; priority 1 columns show only with `-o wide`. */
export interface ColumnDefinition {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format: string;
  description: string;
  priority: 0 | 1;
}

/** Turns objects of one kind into table rows, the same columns kube-apiserver 1.32 prints. */
export interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: number): unknown[];
  /** Row conditions (pods: Completed for terminal phases). */
  conditions?(obj: KubeObject): { type: string; status: string }[] | undefined;
}

export function column(
  name: string,
  type: ColumnDefinition["type"],
  description: string,
  priority: 0 | 1 = 0,
): ColumnDefinition {
  return { name, type, format: name === "Name" ? "name" : "", description, priority };
}

export const nameColumn = column(
  "Name",
  "string",
  "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
);
export const ageColumn = column(
  "Age",
  "string",
  "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

/** `app=web,tier in (a,b)`; `<none>` for an empty selector. */
export function selectorString(selector: LabelSelector | undefined): string {
  if (!selector) return "<none>";
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(",") : "<none>";
}

/** A plain label map (`Service.spec.selector`) as `a=b,c=d`, `<none>` when empty. */
export function mapString(map: Record<string, string> | undefined): string {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
}

export function orNone(value: string | undefined | null): string {
  return value ? value : "<none>";
}

export const containersColumn = column("Containers", "string", "Names of each container in the template.", 1);
export const imagesColumn = column(
  "Images",
  "string",
  "Images referenced by each container in the template.",
  1,
);
export const selectorColumn = column("Selector", "string", "Label selector for pods.", 1);

/** CONTAINERS and IMAGES cells of a workload's pod template. */
export function templateCells(template: PodTemplateSpec | undefined): string[] {
  const containers = template?.spec?.containers ?? [];
  return [containers.map((c) => c.name).join(","), containers.map((c) => c.image ?? "").join(",")];
}
