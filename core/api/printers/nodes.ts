import type { Node } from "kubernetes-types/core/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

export const nodePrinter: Printer = {
  columns: [
    nameColumn,
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    ageColumn,
    column("Version", "string", "Kubelet Version reported by the node."),
    column("Internal-IP", "string", "List of addresses reachable to the node.", 1),
    column("External-IP", "string", "List of addresses reachable to the node.", 1),
    column(
      "OS-Image",
      "string",
      "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      1,
    ),
    column(
      "Kernel-Version",
      "string",
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    column(
      "Container-Runtime",
      "string",
      "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      1,
    ),
  ],
  cells(obj, now) {
    const node = obj as unknown as Node;
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    let status = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown";
    if (node.spec?.unschedulable) status += ",SchedulingDisabled";
    const roles = Object.keys(node.metadata?.labels ?? {})
      .filter((l) => l.startsWith("node-role.kubernetes.io/"))
      .map((l) => l.slice("node-role.kubernetes.io/".length))
      .filter(Boolean)
      .sort();
    const address = (type: string) =>
      node.status?.addresses?.find((a) => a.type === type)?.address || "<none>";
    const info = node.status?.nodeInfo;
    return [
      node.metadata?.name,
      status,
      roles.length ? roles.join(",") : "<none>",
      since(node.metadata?.creationTimestamp, now),
      info?.kubeletVersion ?? "",
      address("InternalIP"),
      address("ExternalIP"),
      info?.osImage ?? "<unknown>",
      info?.kernelVersion ?? "<unknown>",
      info?.containerRuntimeVersion ?? "<unknown>",
    ];
  },
};
