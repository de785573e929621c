import type { Namespace, ServiceAccount } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import { type Controller, type ControllerContext, createController, keyOf } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

/** The ServiceAccount every namespace gets, which pods use unless they name another. */
export const DEFAULT_SERVICE_ACCOUNT = "default";

/**
 * Kubernetes' serviceaccount controller: every active namespace has a `default` ServiceAccount;
 * one that is deleted comes back. Namespaces that existed before minik started are covered by the
 * informers' initial list.
 */
export function createServiceAccountsController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const namespaces = informers.for<Kube<Namespace>>("namespaces");
  const accounts = informers.for<Kube<ServiceAccount>>("serviceaccounts");
  const controller = createController({
    name: "serviceaccount",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 60_000, keys: () => namespaces.list().map(keyOf) },
  });
  namespaces.onEvent((e) => {
    if (e.type !== "DELETED") controller.enqueue(keyOf(e.object));
  });
  accounts.onEvent((e) => {
    if (e.type === "DELETED" && e.object.metadata.name === DEFAULT_SERVICE_ACCOUNT)
      controller.enqueue(e.object.metadata.namespace ?? "");
  });
  return controller;

  async function reconcile(namespace: string) {
    const ns = namespaces.get("", namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === "Terminating") return;
    if (accounts.get(namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      accounts.observe(
        await client.create<Kube<ServiceAccount>>("serviceaccounts", {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace },
        }),
      );
    } catch (e) {
      // already there (the cache was behind), or the namespace began terminating meanwhile
      if (!isApiError(e, "AlreadyExists") && !isApiError(e, "Forbidden")) throw e;
    }
  }
}
