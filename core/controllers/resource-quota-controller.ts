import type { ResourceQuota } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { formatAmount, quotaApplies, resourcesFor, usageIn } from "../quota.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

type Quota = Kube<ResourceQuota>;

/** The kinds whose changes move a quota's usage; others (count/…) are caught by the resync. */
const WATCHED = ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims"];

/**
 * ResourceQuota status, as kube-controller-manager's resource-quota controller keeps it:
 * `status.hard` mirrors `spec.hard`, `status.used` counts what the namespace holds of each
 * (admission refuses a create past the hard limits; this is what `kubectl describe quota` shows).
 */
export function createResourceQuotaController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const quotas = informers.for<Quota>("resourcequotas");
  const controller = createController({
    name: "resourcequota",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => quotas.list().map(keyOf) },
  });
  quotas.onEvent((e) => controller.enqueue(keyOf(e.object)));
  for (const resource of WATCHED)
    informers.for(resource).onEvent((e) => {
      for (const q of quotas.list(e.object.metadata.namespace ?? "")) controller.enqueue(keyOf(q));
    });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const quota = quotas.get(namespace, name);
    if (!quota) return;
    const hard = (quota.spec?.hard ?? {}) as Record<string, string>;
    const names = Object.keys(hard);
    const objects = new Map<string, KubeObject[]>();
    for (const resource of resourcesFor(names)) {
      const items = WATCHED.includes(resource)
        ? informers.for(resource).list(namespace)
        : (await client.list(resource, { namespace })).items;
      objects.set(
        resource,
        items.filter((o) => quotaApplies(quota, resource, o)),
      );
    }
    const used = usageIn(objects, names);
    const status = {
      hard: { ...hard },
      used: Object.fromEntries(names.map((n) => [n, formatAmount(n, used.get(n) ?? 0)])),
    };
    if (deepEqual(status, quota.status)) return;
    quotas.observe(await client.updateStatus<Quota>("resourcequotas", { ...quota, status }));
  }
}
