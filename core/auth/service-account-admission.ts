import type { Container, Pod, ServiceAccount, Volume } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import type { AdmissionHook } from "../registry/admission.ts";
import { PROJECTED_EXPIRATION_SECONDS } from "./service-account-tokens.ts";

/** Where client libraries look for the in-cluster credentials. */
export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The ConfigMap in every namespace that holds the CA pods use to verify the API server. */
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
const VOLUME_PREFIX = "kube-api-access-";
const SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/**
 * The ServiceAccount admission plugin's token mount: a new pod whose ServiceAccount (or the pod
 * itself) does not opt out with `automountServiceAccountToken: false` gets a projected
 * `kube-api-access-xxxxx` volume (a bound token, ca.crt from kube-root-ca.crt, the namespace)
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container.
 */
export function serviceAccountAdmission(
  lookup: (namespace: string, name: string) => Promise<KubeObject | undefined>,
): AdmissionHook {
  return async (request) => {
    if (request.resource !== "pods" || request.operation !== "CREATE" || request.subresource) return;
    const pod = request.object as unknown as Pod;
    const spec = pod.spec as (Pod["spec"] & { volumes?: Volume[] }) | undefined;
    if (!spec) return;
    const namespace = request.object.metadata.namespace ?? "default";
    const sa = (await lookup(namespace, spec.serviceAccountName ?? "default")) as ServiceAccount | undefined;
    const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
    if (!automount) return;
    const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])] as Container[];
    if (containers.some((c) => c.volumeMounts?.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)))
      return;
    const name = `${VOLUME_PREFIX}${randomSuffix()}`;
    (spec as { volumes?: Volume[] }).volumes = [...(spec.volumes ?? []), apiAccessVolume(name)];
    for (const c of containers) {
      (c as { volumeMounts?: unknown[] }).volumeMounts = [
        ...(c.volumeMounts ?? []),
        { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH },
      ];
    }
  };
}

function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_EXPIRATION_SECONDS, path: "token" } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    },
  };
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return Array.from(bytes, (b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join("");
}
