import type { ResourceQuota } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { parseQuantity } from "../quantity.ts";
import { type Causes, invalid } from "./causes.ts";

/** The resource names a quota may limit without a `/` (upstream's standard quota resources). */
export const STANDARD_QUOTA_RESOURCES = new Set([
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.storage",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
]);

/** Names in spec.hard: standard ones, or qualified (`count/deployments.apps`, `requests.nvidia.com/gpu`). */
export function validateResourceQuota(obj: KubeObject): Causes {
  const rq = obj as unknown as ResourceQuota;
  const causes: Causes = [];
  for (const [name, q] of Object.entries((rq.spec?.hard ?? {}) as Record<string, string | number>)) {
    const at = `spec.hard[${name}]`;
    if (!STANDARD_QUOTA_RESOURCES.has(name) && !name.includes("/") && !name.startsWith("hugepages-"))
      causes.push(invalid(at, name, "must be a standard resource for quota"));
    const v = parseQuantity(q);
    if (Number.isNaN(v)) causes.push(invalid(at, q, "must be a quantity, e.g. 10 or 4Gi"));
    else if (v < 0) causes.push(invalid(at, q, "must be greater than or equal to 0"));
  }
  return causes;
}
