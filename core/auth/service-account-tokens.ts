import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Pod, Secret, ServiceAccount } from "kubernetes-types/core/v1";
import type { KubeObject } from "../object.ts";
import { serviceAccountUser, type UserInfo } from "./user.ts";

/**
 * Service-account tokens as kube-apiserver issues and checks them: ES256 JWTs signed with one key
 * kept in the data dir. Bound tokens (TokenRequest, the projected kube-api-access volume) carry
 * issuer, audiences, expiry and the `kubernetes.io` claim naming the ServiceAccount and the pod or
 * Secret they are bound to; a token dies with any of them (the uid must still match). Legacy
 * tokens (`kubernetes.io/service-account-token` Secrets) have no expiry and die with their Secret.
 */
export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
const LEGACY_ISSUER = "kubernetes/serviceaccount";
const ALG = "ES256";
/** What the ServiceAccount admission plugin asks for; such pod-bound tokens get a year (see warnafter). */
export const PROJECTED_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
export const MIN_EXPIRATION_SECONDS = 600;
/** Pods still being deleted keep a working token this long (their containers are stopping). */
const DELETING_POD_GRACE_MS = 60_000;

export interface BoundObject {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
}

export interface TokenRequestInput {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences?: string[];
  expirationSeconds: number;
  boundObject?: BoundObject;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, whole seconds. */
  expirationTimestamp: string;
  audiences: string[];
}

export interface TokenReviewResult {
  authenticated: boolean;
  user?: UserInfo;
  audiences?: string[];
  error?: string;
}

export interface ServiceAccountTokens {
  issue(input: TokenRequestInput): Promise<IssuedToken>;
  /** A legacy, non-expiring token for a `kubernetes.io/service-account-token` Secret. */
  issueLegacy(
    namespace: string,
    serviceAccount: { name: string; uid: string },
    secretName: string,
  ): Promise<string>;
  /**
   * Checks signature, issuer, expiry, audiences (default: the API's) and that the bound objects
   * still exist; the user it names, or why not.
   */
  review(token: string, audiences?: string[]): Promise<TokenReviewResult>;
  /** The API's own audiences (TokenRequest's default). */
  readonly apiAudiences: string[];
  /** The `iss` of bound tokens. */
  readonly issuer: string;
  /** The issuer's public key set (for /openid/v1/jwks). */
  jwks(): Promise<{ keys: Record<string, unknown>[] }>;
}

/** Reads objects the tokens are bound to (the registry's store or client). */
export type ObjectLookup = (
  resource: string,
  namespace: string,
  name: string,
) => Promise<KubeObject | undefined>;

export interface TokenOptions {
  /** PKCS#8 PEM of an ECDSA P-256 key. */
  signingKeyPem: string;
  lookup: ObjectLookup;
  issuer?: string;
  /** Default: [issuer]. */
  apiAudiences?: string[];
  now?: () => number;
}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  warnafter?: number;
}

/** A fresh signing key as PKCS#8 PEM (cmd keeps it in the data dir, 0600). */
export async function generateSigningKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return exportPKCS8(privateKey);
}

export async function createServiceAccountTokens(options: TokenOptions): Promise<ServiceAccountTokens> {
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const apiAudiences = options.apiAudiences ?? [issuer];
  const now = options.now ?? Date.now;
  const privateKey = await importPKCS8(options.signingKeyPem, ALG, { extractable: true });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const publicKey = await importJWK({ ...publicJwk, alg: ALG }, ALG);

  async function sign(payload: JWTPayload, iss: string): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: ALG, kid }).setIssuer(iss).sign(privateKey);
  }

  async function reviewBound(payload: JWTPayload, audiences: string[]): Promise<TokenReviewResult> {
    const claim = payload["kubernetes.io"] as KubernetesClaim | undefined;
    if (!claim?.namespace || !claim.serviceaccount?.name) return fail("token lacks the kubernetes.io claim");
    const tokenAudiences = ([] as string[]).concat(payload.aud ?? []);
    const matched = audiences.filter((a) => tokenAudiences.includes(a));
    if (matched.length === 0) return fail("token audiences do not match");
    const sa = await options.lookup("serviceaccounts", claim.namespace, claim.serviceaccount.name);
    if (!sa || sa.metadata.uid !== claim.serviceaccount.uid)
      return fail(`service account ${claim.namespace}/${claim.serviceaccount.name} no longer exists`);
    const extra: Record<string, string[]> = {};
    if (claim.pod) {
      const pod = (await options.lookup("pods", claim.namespace, claim.pod.name)) as
        | (Pod & KubeObject)
        | undefined;
      if (!pod || pod.metadata.uid !== claim.pod.uid)
        return fail(`pod ${claim.namespace}/${claim.pod.name} no longer exists`);
      const deleting = pod.metadata.deletionTimestamp;
      if (deleting && Date.parse(deleting) + DELETING_POD_GRACE_MS < now())
        return fail(`pod ${claim.namespace}/${claim.pod.name} is being deleted`);
      extra["authentication.kubernetes.io/pod-name"] = [claim.pod.name];
      extra["authentication.kubernetes.io/pod-uid"] = [claim.pod.uid];
    }
    if (claim.secret) {
      const secret = await options.lookup("secrets", claim.namespace, claim.secret.name);
      if (!secret || secret.metadata.uid !== claim.secret.uid)
        return fail(`secret ${claim.namespace}/${claim.secret.name} no longer exists`);
    }
    if (claim.node) {
      const node = await options.lookup("nodes", "", claim.node.name);
      if (!node || node.metadata.uid !== claim.node.uid)
        return fail(`node ${claim.node.name} no longer exists`);
      extra["authentication.kubernetes.io/node-name"] = [claim.node.name];
    }
    if (payload.jti) extra["authentication.kubernetes.io/credential-id"] = [`JTI=${payload.jti}`];
    return {
      authenticated: true,
      user: serviceAccountUser(claim.namespace, claim.serviceaccount.name, claim.serviceaccount.uid, extra),
      audiences: matched,
    };
  }

  async function reviewLegacy(payload: JWTPayload, token: string): Promise<TokenReviewResult> {
    const namespace = payload["kubernetes.io/serviceaccount/namespace"] as string | undefined;
    const secretName = payload["kubernetes.io/serviceaccount/secret.name"] as string | undefined;
    const saName = payload["kubernetes.io/serviceaccount/service-account.name"] as string | undefined;
    const saUid = payload["kubernetes.io/serviceaccount/service-account.uid"] as string | undefined;
    if (!namespace || !secretName || !saName) return fail("token lacks the service account claims");
    const sa = await options.lookup("serviceaccounts", namespace, saName);
    if (!sa || sa.metadata.uid !== saUid)
      return fail(`service account ${namespace}/${saName} no longer exists`);
    const secret = (await options.lookup("secrets", namespace, secretName)) as
      | (Secret & KubeObject)
      | undefined;
    if (!secret || atob(secret.data?.token ?? "") !== token)
      return fail(`secret ${namespace}/${secretName} no longer holds this token`);
    return {
      authenticated: true,
      user: serviceAccountUser(namespace, saName, saUid),
      audiences: apiAudiences,
    };
  }

  return {
    apiAudiences,
    issuer,
    async issue(input) {
      const iat = Math.floor(now() / 1000);
      const audiences = input.audiences?.length ? input.audiences : apiAudiences;
      const extended =
        input.boundObject?.kind === "Pod" && input.expirationSeconds === PROJECTED_EXPIRATION_SECONDS;
      const exp = iat + (extended ? EXTENDED_EXPIRATION_SECONDS : input.expirationSeconds);
      const claim: KubernetesClaim = { namespace: input.namespace, serviceaccount: input.serviceAccount };
      const bound = input.boundObject;
      if (bound)
        claim[bound.kind.toLowerCase() as "pod" | "secret" | "node"] = { name: bound.name, uid: bound.uid };
      if (extended) claim.warnafter = iat + input.expirationSeconds;
      const token = await sign(
        {
          aud: audiences,
          sub: serviceAccountUser(input.namespace, input.serviceAccount.name).username,
          iat,
          nbf: iat,
          exp,
          jti: crypto.randomUUID(),
          "kubernetes.io": claim,
        },
        issuer,
      );
      return {
        token,
        expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
        audiences,
      };
    },
    issueLegacy(namespace, serviceAccount, secretName) {
      return sign(
        {
          sub: serviceAccountUser(namespace, serviceAccount.name).username,
          "kubernetes.io/serviceaccount/namespace": namespace,
          "kubernetes.io/serviceaccount/secret.name": secretName,
          "kubernetes.io/serviceaccount/service-account.name": serviceAccount.name,
          "kubernetes.io/serviceaccount/service-account.uid": serviceAccount.uid,
        },
        LEGACY_ISSUER,
      );
    },
    async review(token, audiences = apiAudiences) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, publicKey, {
          issuer: [issuer, LEGACY_ISSUER],
          algorithms: [ALG],
          currentDate: new Date(now()),
        }));
      } catch (e) {
        return fail(`invalid bearer token: ${(e as Error).message}`);
      }
      return payload.iss === LEGACY_ISSUER ? reviewLegacy(payload, token) : reviewBound(payload, audiences);
    },
    async jwks() {
      return { keys: [{ ...publicJwk, kid, alg: ALG, use: "sig" }] };
    },
  };
}

function fail(error: string): TokenReviewResult {
  return { authenticated: false, error };
}

/** A ServiceAccount as the token code needs it. */
export function accountRef(sa: ServiceAccount & KubeObject): { name: string; uid: string } {
  return { name: sa.metadata.name ?? "", uid: sa.metadata.uid ?? "" };
}
