import { ApiError, type StatusCause } from "../errors.ts";
import { queryFlag } from "./options.ts";

/**
 * `sendInitialEvents`, `resourceVersionMatch` and their combinations, checked as
 * apimachinery's ValidateListOptions checks them (422 on `ListOptions.meta.k8s.io`), for lists and
 * watches alike. A WatchList (`watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&
 * allowWatchBookmarks=true`) then gets one ADDED per object and the `k8s.io/initial-events-end`
 * bookmark before the changes.
 */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

export function initialEventsOptions(q: URLSearchParams): { sendInitialEvents?: boolean } {
  const watch = queryFlag(q.get("watch"));
  const raw = q.get("sendInitialEvents");
  const send = raw === null ? undefined : queryFlag(raw);
  const match = q.get("resourceVersionMatch") ?? "";
  const causes: StatusCause[] = [];
  const forbid = (field: string, message: string) =>
    causes.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${message}` });
  const unsupported = (values: string[]) =>
    causes.push({
      reason: "FieldValueNotSupported",
      field: "resourceVersionMatch",
      message: `Unsupported value: "${match}": supported values: ${values.map((v) => `"${v}"`).join(", ")}`,
    });
  if (watch) {
    if (send !== undefined && match !== "NotOlderThan")
      forbid(
        "resourceVersionMatch",
        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
      );
    if (send === true && !queryFlag(q.get("allowWatchBookmarks")))
      forbid("allowWatchBookmarks", "allowWatchBookmarks must be set to true when sendInitialEvents is true");
    if (match) {
      if (send === undefined)
        forbid(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        );
      if (match !== "NotOlderThan") unsupported(["NotOlderThan"]);
      if (q.get("continue"))
        forbid("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
    }
  } else {
    if (match) {
      if (!q.get("resourceVersion"))
        forbid(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden unless resourceVersion is provided",
        );
      if (q.get("continue"))
        forbid("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided");
      if (match !== "Exact" && match !== "NotOlderThan") unsupported(["Exact", "NotOlderThan", ""]);
      if (match === "Exact" && q.get("resourceVersion") === "0")
        forbid("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    }
    if (send !== undefined) forbid("sendInitialEvents", "sendInitialEvents is forbidden for list");
  }
  if (causes.length) throw ApiError.invalid("ListOptions", "", causes, "meta.k8s.io");
  return send === undefined ? {} : { sendInitialEvents: send };
}
