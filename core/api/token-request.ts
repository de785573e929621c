import type { TokenRequest } from "kubernetes-types/authentication/v1";
import type { Pod, ServiceAccount } from "kubernetes-types/core/v1";
import { accountRef, type BoundObject, MIN_EXPIRATION_SECONDS } from "../auth/service-account-tokens.ts";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { invalid, notSupported } from "../validation/causes.ts";
import { readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { json } from "./respond.ts";
import { methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const BOUND_KINDS: Record<string, string> = { Pod: "pods", Secret: "secrets", Node: "nodes" };

/**
 * POST serviceaccounts/NAME/token (TokenRequest, what `kubectl create token` sends): a bound token
 * for the ServiceAccount, optionally bound to a Pod, Secret or Node that must exist (and, for a
 * pod, run as this ServiceAccount).
 */
export async function handleTokenRequest(req: Request, t: Target, deps: ApiServerDeps): Promise<Response> {
  if (req.method !== "POST") throw methodNotAllowed(req.method, t);
  if (!deps.tokens) throw new ApiError("ServiceUnavailable", "this server issues no service-account tokens");
  const namespace = t.namespace ?? "";
  const name = t.name ?? "";
  const body = ((await readBody(req)) ?? {}) as TokenRequest;
  const spec = { ...(body.spec ?? {}) } as NonNullable<TokenRequest["spec"]> & { audiences?: string[] };
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    throw ApiError.invalid(
      "TokenRequest",
      name,
      [
        invalid(
          "spec.expirationSeconds",
          expirationSeconds,
          "may not specify a duration less than 10 minutes",
        ),
      ],
      "authentication.k8s.io",
    );
  if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    throw ApiError.invalid(
      "TokenRequest",
      name,
      [
        invalid(
          "spec.expirationSeconds",
          expirationSeconds,
          "may not specify a duration larger than 2^32 seconds",
        ),
      ],
      "authentication.k8s.io",
    );
  const sa = await deps.client.get<ServiceAccount & KubeObject>("serviceaccounts", namespace, name);

  let boundObject: BoundObject | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const resource = BOUND_KINDS[ref.kind ?? ""];
    if (!resource)
      throw ApiError.invalid(
        "TokenRequest",
        name,
        [notSupported("spec.boundObjectRef.kind", ref.kind ?? "", Object.keys(BOUND_KINDS))],
        "authentication.k8s.io",
      );
    const obj = await deps.client.get(resource, resource === "nodes" ? "" : namespace, ref.name ?? "");
    if (ref.uid && ref.uid !== obj.metadata.uid) throw ApiError.conflict(resource, ref.name ?? "");
    if (ref.kind === "Pod" && (obj as Pod).spec?.serviceAccountName !== name)
      throw new ApiError(
        "BadRequest",
        `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
      );
    boundObject = {
      kind: ref.kind as BoundObject["kind"],
      name: ref.name ?? "",
      uid: obj.metadata.uid ?? "",
    };
  }
  const issued = await deps.tokens.issue({
    namespace,
    serviceAccount: accountRef(sa),
    audiences: spec.audiences,
    expirationSeconds,
    boundObject,
  });
  return json(
    {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
      spec: {
        audiences: issued.audiences,
        expirationSeconds,
        boundObjectRef: ref ? { ...ref, uid: boundObject?.uid } : null,
      },
      status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
    201,
  );
}
