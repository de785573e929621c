import type { Pod, ServiceAccount, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { accountRef, type ServiceAccountTokens } from "./service-account-tokens.ts";

const DEFAULT_EXPIRATION_SECONDS = 3600;

/**
 * The token the node agent writes for a projected `serviceAccountToken` source, as the kubelet
 * gets it through TokenRequest: for the pod's ServiceAccount, bound to the pod, with the
 * projection's audience and expiry.
 */
export function podTokenSource(
  tokens: Pick<ServiceAccountTokens, "issue">,
  client: Pick<Client, "get">,
): (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string> {
  return async (pod, projection) => {
    const namespace = pod.metadata?.namespace ?? "default";
    const sa = await client.get<ServiceAccount & KubeObject>(
      "serviceaccounts",
      namespace,
      pod.spec?.serviceAccountName ?? "default",
    );
    const issued = await tokens.issue({
      namespace,
      serviceAccount: accountRef(sa),
      audiences: projection.audience ? [projection.audience] : undefined,
      expirationSeconds: projection.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS,
      boundObject: { kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
    });
    return issued.token;
  };
}
