import type { ResourceQuota } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import {
  amountOf,
  formatAmount,
  missingCompute,
  quotaApplies,
  resourcesFor,
  type Usage,
  usageIn,
  usageOf,
} from "../quota.ts";
import type { Store } from "../store/store.ts";
import { type AdmissionHook, admissionForbidden } from "./admission.ts";

/**
 * ResourceQuota admission: a create that would take a namespace past a quota's `hard` is refused
 * with 403 `exceeded quota: NAME, requested: …, used: …, limited: …`, as upstream words it. Usage
 * is counted from the namespace's objects at the time of the request (not from status.used, which
 * the resource-quota controller keeps for display), so it is never stale; two racing creates can
 * both pass, which upstream prevents by writing status.used in the same step.
 */
export function quotaAdmission(store: Store): AdmissionHook {
  return async (req) => {
    if (req.operation !== "CREATE" || req.subresource || req.dryRun) return;
    const namespace = req.object.metadata.namespace;
    if (!namespace) return;
    const quotas = (await store.list("resourcequotas", namespace)).items as unknown as ResourceQuota[];
    for (const quota of quotas) {
      if (!quotaApplies(quota, req.resource, req.object)) continue;
      const hard = (quota.spec?.hard ?? {}) as Record<string, string | number>;
      const requested = usageOf(req.resource, req.object, Object.keys(hard));
      const name = quota.metadata?.name ?? "";
      if (req.resource === "pods") {
        const missing = missingCompute(req.object, Object.keys(hard));
        if (missing.length)
          throw admissionForbidden(
            req.resource,
            req.object.metadata.name ?? "",
            `failed quota: ${name}: must specify ${missing.join(",")}`,
          );
      }
      if (requested.size === 0) continue;
      const used = await usedIn(store, namespace, quota, requested.keys());
      const over = [...requested].filter(([n, v]) => v > 0 && (used.get(n) ?? 0) + v > amountOf(n, hard[n]));
      if (!over.length) continue;
      const show = (values: (n: string) => string) =>
        over
          .map(([n]) => n)
          .sort()
          .map((n) => `${n}=${values(n)}`)
          .join(",");
      throw admissionForbidden(
        req.resource,
        req.object.metadata.name ?? "",
        `exceeded quota: ${name}, requested: ${show((n) => formatAmount(n, requested.get(n)!))}, used: ${show(
          (n) => formatAmount(n, used.get(n) ?? 0),
        )}, limited: ${show((n) => String(hard[n]))}`,
      );
    }
  };
}

async function usedIn(
  store: Store,
  namespace: string,
  quota: ResourceQuota,
  names: Iterable<string>,
): Promise<Usage> {
  const wanted = [...names];
  const objects = new Map<string, KubeObject[]>();
  for (const resource of resourcesFor(wanted)) {
    const { items } = await store.list(resource, namespace);
    objects.set(
      resource,
      items.filter((o) => quotaApplies(quota, resource, o)),
    );
  }
  return usageIn(objects, wanted);
}
