import type { ConfigMap, Namespace } from "kubernetes-types/core/v1";
import { ROOT_CA_CONFIGMAP } from "../auth/service-account-admission.ts";
import { isApiError } from "../errors.ts";
import { type Controller, type ControllerContext, createController, keyOf } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

export { ROOT_CA_CONFIGMAP };

const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/**
 * Kubernetes' root-ca-cert-publisher: a `kube-root-ca.crt` ConfigMap (`ca.crt`: the CA that signs
 * the API server's serving certificate) in every active namespace, put back when deleted or edited.
 */
export function createRootCaPublisher(ctx: ControllerContext, options: { caPem: string }): Controller {
  const { client, informers } = ctx;
  const namespaces = informers.for<Kube<Namespace>>("namespaces");
  const configMaps = informers.for<Kube<ConfigMap>>("configmaps");
  const controller = createController({
    name: "root-ca-cert-publisher",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 60_000, keys: () => namespaces.list().map(keyOf) },
  });
  namespaces.onEvent((e) => {
    if (e.type !== "DELETED") controller.enqueue(keyOf(e.object));
  });
  configMaps.onEvent((e) => {
    if (e.object.metadata.name === ROOT_CA_CONFIGMAP) controller.enqueue(e.object.metadata.namespace ?? "");
  });
  return controller;

  async function reconcile(namespace: string) {
    const ns = namespaces.get("", namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === "Terminating") return;
    const data = { "ca.crt": options.caPem };
    const existing = configMaps.get(namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!existing) {
        configMaps.observe(
          await client.create<Kube<ConfigMap>>("configmaps", {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: ROOT_CA_CONFIGMAP,
              namespace,
              annotations: { "kubernetes.io/description": DESCRIPTION },
            },
            data,
          }),
        );
      } else if (
        existing.data?.["ca.crt"] !== options.caPem ||
        Object.keys(existing.data ?? {}).length !== 1
      ) {
        configMaps.observe(await client.update<Kube<ConfigMap>>("configmaps", { ...existing, data }));
      }
    } catch (e) {
      if (!isApiError(e, "AlreadyExists") && !isApiError(e, "Forbidden")) throw e;
    }
  }
}
