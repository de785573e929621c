import type { LimitRange, PodTemplate, ResourceQuota } from "kubernetes-types/core/v1";
import type { RuntimeClass } from "kubernetes-types/node/v1";
import type { PriorityClass } from "kubernetes-types/scheduling/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, mapString, nameColumn, type Printer } from "./printer.ts";

/** kube-apiserver 1.32's columns for PodTemplate, LimitRange, ResourceQuota, PriorityClass, RuntimeClass. */
export const podTemplatePrinter: Printer = {
  columns: [
    nameColumn,
    column("Containers", "string", "Names of each container in the template."),
    column("Images", "string", "Images referenced by each container in the template."),
    column("Pod Labels", "string", "The labels for the pod template."),
  ],
  cells(obj) {
    const t = (obj as unknown as PodTemplate).template;
    const containers = t?.spec?.containers ?? [];
    return [
      obj.metadata.name,
      containers.map((c) => c.name).join(","),
      containers.map((c) => c.image ?? "").join(","),
      mapString(t?.metadata?.labels as Record<string, string> | undefined),
    ];
  },
};

export const limitRangePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Created At",
      "date",
      "CreationTimestamp is a timestamp representing the server time when this object was created.",
    ),
  ],
  cells(obj) {
    return [(obj as unknown as LimitRange).metadata?.name, obj.metadata.creationTimestamp ?? ""];
  },
};

export const resourceQuotaPrinter: Printer = {
  columns: [
    nameColumn,
    ageColumn,
    column(
      "Request",
      "string",
      "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    column(
      "Limit",
      "string",
      "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
  ],
  cells(obj, now) {
    const status = (obj as unknown as ResourceQuota).status;
    const hard = (status?.hard ?? {}) as Record<string, string>;
    const used = (status?.used ?? {}) as Record<string, string>;
    const request: string[] = [];
    const limit: string[] = [];
    for (const name of Object.keys(hard).sort()) {
      const text = `${name}: ${used[name] ?? "0"}/${hard[name]}`;
      (name.startsWith("limits.") ? limit : request).push(text);
    }
    return [
      obj.metadata.name,
      since(obj.metadata.creationTimestamp, now),
      request.join(", "),
      limit.join(", "),
    ];
  },
};

export const priorityClassPrinter: Printer = {
  columns: [
    nameColumn,
    column("Value", "integer", "value represents the integer value of this priority class."),
    column(
      "Global-Default",
      "boolean",
      "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    ageColumn,
    column(
      "PreemptionPolicy",
      "string",
      "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
  ],
  cells(obj, now) {
    const pc = obj as unknown as PriorityClass;
    return [
      obj.metadata.name,
      pc.value,
      pc.globalDefault ?? false,
      since(obj.metadata.creationTimestamp, now),
      pc.preemptionPolicy ?? "",
    ];
  },
};

export const runtimeClassPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      "Handler",
      "string",
      "handler specifies the underlying runtime and configuration that the CRI implementation will use.",
    ),
    ageColumn,
  ],
  cells(obj, now) {
    return [
      obj.metadata.name,
      (obj as unknown as RuntimeClass).handler,
      since(obj.metadata.creationTimestamp, now),
    ];
  },
};
