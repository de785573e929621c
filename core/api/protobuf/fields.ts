import { MESSAGES } from "./messages.ts";

/** One field of a Kubernetes message: JSON name, type (scalar or message), single/repeated/map. */
export interface MessageField {
  name: string;
  type: string;
  label: "o" | "r" | "m";
}

const tables = new Map<string, Map<number, MessageField>>();

/** The fields of a message by number; throws for messages not in the table. */
export function fieldsOf(message: string): Map<number, MessageField> {
  let t = tables.get(message);
  if (t) return t;
  const spec = MESSAGES[message] ?? listSpec(message);
  if (spec === undefined) throw new Error(`no protobuf table for ${message}`);
  t = new Map();
  for (const entry of spec.split(" ").filter(Boolean)) {
    const [number, name, type, label] = entry.split(":");
    t.set(Number(number), { name: name!, type: type!, label: (label as "r" | "m") ?? "o" });
  }
  tables.set(message, t);
  return t;
}

/**
 * `apps.v1.Deployment` for (apps, v1, Deployment); `core.v1.Pod` for the core group; the `v1`
 * Status every API group answers with is apimachinery's `meta.v1.Status`.
 */
export function messageName(group: string, version: string, kind: string): string {
  if (!group && version === "v1" && kind === "Status") return "meta.v1.Status";
  return `${group ? group.split(".")[0] : "core"}.${version}.${kind}`;
}

export function hasMessage(message: string): boolean {
  return message in MESSAGES || listSpec(message) !== undefined;
}

/** Every `XxxList` of a described kind has the same shape: ListMeta, then the items. */
function listSpec(message: string): string | undefined {
  if (!message.endsWith("List")) return undefined;
  const item = message.slice(0, -"List".length);
  if (!(item in MESSAGES) || !MESSAGES[item]!.startsWith("1:metadata:meta.v1.ObjectMeta")) return undefined;
  return `1:metadata:meta.v1.ListMeta 2:items:${item}:r`;
}
