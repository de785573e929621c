import { Hono } from "hono";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";

/**
 * The service-account issuer's OpenID discovery, as kube-apiserver serves it, so other parties
 * (a vault, a cloud's workload identity) can verify minik's tokens: the configuration document
 * and the public keys. Service accounts may read both (system:service-account-issuer-discovery).
 */
export function createServiceAccountIssuer(tokens: Pick<ServiceAccountTokens, "issuer" | "jwks">): Hono {
  const app = new Hono();
  app.get("/.well-known/openid-configuration", (c) =>
    c.json({
      issuer: tokens.issuer,
      jwks_uri: `${new URL(c.req.url).origin}/openid/v1/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
    }),
  );
  app.get(
    "/openid/v1/jwks",
    async () =>
      new Response(JSON.stringify(await tokens.jwks()), {
        headers: { "Content-Type": "application/jwk-set+json" },
      }),
  );
  return app;
}
