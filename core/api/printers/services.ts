import type { Service } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, mapString, nameColumn, type Printer } from "./printer.ts";

export const servicePrinter: Printer = {
  columns: [
    nameColumn,
    column("Type", "string", "type determines how the Service is exposed."),
    column(
      "Cluster-IP",
      "string",
      "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    column(
      "External-IP",
      "string",
      "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    column("Port(s)", "string", "The list of ports that are exposed by this service."),
    ageColumn,
    column(
      "Selector",
      "string",
      "Route service traffic to pods with label keys and values matching this selector.",
      1,
    ),
  ],
  cells(obj, now) {
    const svc = obj as unknown as Service;
    const type = svc.spec?.type ?? "ClusterIP";
    const ports = (svc.spec?.ports ?? [])
      .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`)
      .join(",");
    return [
      svc.metadata?.name,
      type,
      svc.spec?.clusterIP || "<none>",
      externalIp(svc, type),
      ports || "<none>",
      since(svc.metadata?.creationTimestamp, now),
      mapString(svc.spec?.selector),
    ];
  },
};

function externalIp(svc: Service, type: string): string {
  const external = svc.spec?.externalIPs ?? [];
  if (type === "ExternalName") return svc.spec?.externalName ?? "<none>";
  if (type === "LoadBalancer") {
    const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "");
    const all = [...ingress, ...external].filter(Boolean);
    return all.length ? all.join(",") : "<pending>";
  }
  return external.length ? external.join(",") : "<none>";
}
