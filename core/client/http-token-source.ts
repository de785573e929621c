import type { Pod, ServiceAccountTokenProjection } from "kubernetes-types/core/v1";
import type { HttpClientOptions } from "./http-client.ts";
import { httpCaller } from "./http-client.ts";

const DEFAULT_EXPIRATION_SECONDS = 3600;

/**
 * A projected serviceAccountToken's content as a joined node's kubelet gets it: a TokenRequest
 * (`POST …/serviceaccounts/NAME/token`) to the server, bound to the pod — the node holds no
 * signing key.
 */
export function httpPodTokenSource(
  options: HttpClientOptions,
): (pod: Pod, projection: ServiceAccountTokenProjection) => Promise<string> {
  const call = httpCaller(options);
  return async (pod, projection) => {
    const namespace = encodeURIComponent(pod.metadata?.namespace ?? "default");
    const account = encodeURIComponent(pod.spec?.serviceAccountName ?? "default");
    const res = await call(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
      {},
      {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: {
            audiences: projection.audience ? [projection.audience] : undefined,
            expirationSeconds: projection.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS,
            boundObjectRef: {
              apiVersion: "v1",
              kind: "Pod",
              name: pod.metadata?.name ?? "",
              uid: pod.metadata?.uid ?? "",
            },
          },
        }),
      },
    );
    const body = (await res.json()) as { status?: { token?: string } };
    if (!body.status?.token) throw new Error("the TokenRequest answer has no token");
    return body.status.token;
  };
}
