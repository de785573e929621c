import type { Event } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { column, type Printer } from "./printer.ts";

export const eventPrinter: Printer = {
  columns: [
    column("Last Seen", "string", "Time when last Event occurred"),
    column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future."),
    column("Reason", "string", "Reason why the action was taken. It is human-readable."),
    column("Object", "string", "The object that this event is about."),
    column("Subobject", "string", "The subobject (fieldPath) that this event is about.", 1),
    column("Source", "string", "The component reporting this event.", 1),
    column("Message", "string", "A human-readable description of the status of this operation."),
    column("First Seen", "string", "Time when first Event occurred", 1),
    column("Count", "integer", "The number of times this event has occurred.", 1),
    { name: "Name", type: "string", format: "name", description: "Name of the event", priority: 1 },
  ],
  cells(obj, now) {
    const ev = obj as unknown as Event;
    const last = ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
    const first = ev.firstTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp;
    const kind = (ev.involvedObject?.kind ?? "").toLowerCase();
    const target = ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
    const source = [ev.source?.component ?? ev.reportingComponent, ev.source?.host]
      .filter(Boolean)
      .join(", ");
    return [
      since(last, now),
      ev.type ?? "",
      ev.reason ?? "",
      target,
      ev.involvedObject?.fieldPath ?? "",
      source,
      (ev.message ?? "").trim(),
      since(first, now),
      ev.count ?? 1,
      ev.metadata?.name,
    ];
  },
};
