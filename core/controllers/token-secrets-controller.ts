import type { Secret, ServiceAccount } from "kubernetes-types/core/v1";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

export const SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token";
const SA_NAME = "kubernetes.io/service-account.name";
const SA_UID = "kubernetes.io/service-account.uid";

/**
 * The legacy half of Kubernetes' tokens controller: a Secret of type
 * `kubernetes.io/service-account-token` naming a ServiceAccount in its annotation gets a
 * non-expiring token for it, plus ca.crt and namespace. The token dies with the Secret or the
 * ServiceAccount (the authenticator checks both).
 */
export function createTokenSecretsController(
  ctx: ControllerContext,
  options: { tokens: Pick<ServiceAccountTokens, "issueLegacy">; caPem: string },
): Controller {
  const { client, informers } = ctx;
  const secrets = informers.for<Kube<Secret>>("secrets");
  const accounts = informers.for<Kube<ServiceAccount>>("serviceaccounts");
  const isTokenSecret = (s: Secret) =>
    s.type === SERVICE_ACCOUNT_TOKEN_TYPE && !!s.metadata?.annotations?.[SA_NAME];
  const controller = createController({
    name: "tokens",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 60_000, keys: () => secrets.list().filter(isTokenSecret).map(keyOf) },
  });
  secrets.onEvent((e) => {
    if (e.type !== "DELETED" && isTokenSecret(e.object)) controller.enqueue(keyOf(e.object));
  });
  accounts.onEvent((e) => {
    if (e.type === "DELETED") return;
    const ns = e.object.metadata.namespace ?? "";
    for (const s of secrets.list(ns))
      if (isTokenSecret(s) && s.metadata.annotations?.[SA_NAME] === e.object.metadata.name)
        controller.enqueue(keyOf(s));
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const secret = secrets.get(namespace, name);
    if (!secret || !isTokenSecret(secret) || secret.metadata.deletionTimestamp) return;
    const sa = accounts.get(namespace, secret.metadata.annotations![SA_NAME]!);
    // the ServiceAccount may come later; its ADDED event brings us back
    if (!sa?.metadata.uid) return;
    const wantedUid = secret.metadata.annotations?.[SA_UID];
    if (wantedUid && wantedUid !== sa.metadata.uid) return; // meant for an earlier ServiceAccount of that name
    if (secret.data?.token && wantedUid) return;
    const token = await options.tokens.issueLegacy(
      namespace,
      { name: sa.metadata.name ?? "", uid: sa.metadata.uid },
      name,
    );
    secrets.observe(
      await client.update<Kube<Secret>>("secrets", {
        ...secret,
        metadata: {
          ...secret.metadata,
          annotations: { ...secret.metadata.annotations, [SA_UID]: sa.metadata.uid },
        },
        data: {
          ...secret.data,
          token: base64(token),
          "ca.crt": base64(options.caPem),
          namespace: base64(namespace),
        },
      }),
    );
  }
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
