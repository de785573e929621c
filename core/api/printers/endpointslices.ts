import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "AddressType",
      "string",
      "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    column(
      "Ports",
      "string",
      "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    column("Endpoints", "string", "endpoints is a list of unique endpoints in this slice."),
    ageColumn,
  ],
  cells(obj, now) {
    const slice = obj as unknown as EndpointSlice;
    const ports = (slice.ports ?? []).map((p) => String(p.port ?? "<unset>"));
    const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses);
    const shown = addresses.slice(0, 3).join(",");
    return [
      slice.metadata?.name,
      slice.addressType,
      ports.length ? ports.join(",") : "<unset>",
      addresses.length > 3 ? `${shown} + ${addresses.length - 3} more...` : shown || "<unset>",
      since(slice.metadata?.creationTimestamp, now),
    ];
  },
};
