import type { Endpoints } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const endpointsPrinter: Printer = {
  columns: [nameColumn, column("Endpoints", "string", "Endpoints of the service"), ageColumn],
  cells(obj, now) {
    const ep = obj as unknown as Endpoints;
    const all: string[] = [];
    for (const subset of ep.subsets ?? []) {
      for (const a of subset.addresses ?? []) {
        if (!subset.ports?.length) all.push(a.ip);
        for (const p of subset.ports ?? []) all.push(`${a.ip}:${p.port}`);
      }
    }
    const shown = all.slice(0, 3).join(",");
    const text = all.length > 3 ? `${shown} + ${all.length - 3} more...` : shown || "<none>";
    return [ep.metadata?.name, text, since(ep.metadata?.creationTimestamp, now)];
  },
};
