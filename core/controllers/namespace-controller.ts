import type { Namespace } from "kubernetes-types/core/v1";
import { namespacedCustomResources } from "../crd/lookup.ts";
import { isApiError } from "../errors.ts";
import { RESOURCES, resourceKey } from "../resources.ts";
import { type Controller, type ControllerContext, createController, keyOf } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

/** How often a Terminating namespace is checked while its contents are still going. */
const RECHECK_MS = 250;

/**
 * Empties a Terminating namespace: deletes every object in it (pods gracefully), and once
 * nothing is left removes the `kubernetes` finalizer from spec.finalizers so the registry lets
 * the namespace go, as Kubernetes' namespace controller does.
 */
export function createNamespaceController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const namespaces = informers.for<Kube<Namespace>>("namespaces");
  const namespaced = RESOURCES.filter((r) => r.namespaced).map(resourceKey);
  const controller = createController({
    name: "namespace",
    log: ctx.log,
    reconcile,
    resync: {
      everyMs: 30_000,
      keys: () =>
        namespaces
          .list()
          .filter((n) => n.metadata.deletionTimestamp)
          .map(keyOf),
    },
  });
  namespaces.onEvent((e) => {
    if (e.object.metadata.deletionTimestamp && e.type !== "DELETED") controller.enqueue(keyOf(e.object));
  });
  return controller;

  async function reconcile(name: string) {
    const ns = namespaces.get("", name);
    if (!ns?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const resource of [...namespaced, ...(await namespacedCustomResources(client))]) {
      const { items } = await client.list(resource, { namespace: name });
      for (const obj of items) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await client.delete(resource, name, obj.metadata.name!, { propagationPolicy: "Background" });
        } catch (e) {
          if (!isApiError(e, "NotFound")) throw e;
        }
      }
    }
    if (remaining > 0) return { requeueAfterMs: RECHECK_MS };
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== "kubernetes");
    if (finalizers.length === (ns.spec?.finalizers ?? []).length) return;
    namespaces.observe(
      await client.update<Kube<Namespace>>("namespaces", { ...ns, spec: { ...ns.spec, finalizers } }),
    );
  }
}
