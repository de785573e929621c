import { beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import type { KubeObject } from "../object.ts";
import {
  createServiceAccountTokens,
  DEFAULT_ISSUER,
  generateSigningKeyPem,
  type ServiceAccountTokens,
} from "./service-account-tokens.ts";

const objects = new Map<string, KubeObject>();
const put = (resource: string, ns: string, name: string, uid: string, extra: Record<string, unknown> = {}) =>
  objects.set(`${resource}/${ns}/${name}`, {
    apiVersion: "v1",
    kind: "X",
    metadata: { name, namespace: ns, uid },
    ...extra,
  });
let clock = Date.parse("2026-06-01T00:00:00Z");
let key: string;
let tokens: ServiceAccountTokens;
const sa = { name: "robot", uid: "sa-uid" };

beforeAll(async () => {
  key = await generateSigningKeyPem();
  tokens = await createServiceAccountTokens({
    signingKeyPem: key,
    lookup: async (r, ns, n) => objects.get(`${r}/${ns}/${n}`),
    now: () => clock,
  });
});

describe("bound service-account tokens", () => {
  test("a TokenRequest token authenticates as the ServiceAccount until it expires", async () => {
    put("serviceaccounts", "team", "robot", "sa-uid");
    const issued = await tokens.issue({ namespace: "team", serviceAccount: sa, expirationSeconds: 3600 });
    expect(issued.expirationTimestamp).toBe("2026-06-01T01:00:00Z");
    const claims = decodeJwt(issued.token);
    expect(claims).toMatchObject({
      iss: DEFAULT_ISSUER,
      aud: [DEFAULT_ISSUER],
      sub: "system:serviceaccount:team:robot",
    });
    const review = await tokens.review(issued.token);
    expect(review).toMatchObject({
      authenticated: true,
      user: {
        username: "system:serviceaccount:team:robot",
        uid: "sa-uid",
        groups: ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"],
      },
      audiences: [DEFAULT_ISSUER],
    });
    clock += 3601_000;
    expect((await tokens.review(issued.token)).error).toContain('"exp" claim timestamp check failed');
    clock -= 3601_000;
  });

  test("the wrong audience, another key or a re-created ServiceAccount are refused", async () => {
    put("serviceaccounts", "team", "robot", "sa-uid");
    const vault = await tokens.issue({
      namespace: "team",
      serviceAccount: sa,
      audiences: ["vault"],
      expirationSeconds: 600,
    });
    expect((await tokens.review(vault.token)).error).toBe("token audiences do not match");
    expect((await tokens.review(vault.token, ["vault"])).authenticated).toBe(true);

    const other = await createServiceAccountTokens({
      signingKeyPem: await generateSigningKeyPem(),
      lookup: async (r, ns, n) => objects.get(`${r}/${ns}/${n}`),
    });
    const forged = await other.issue({ namespace: "team", serviceAccount: sa, expirationSeconds: 600 });
    expect((await tokens.review(forged.token)).error).toContain("signature verification failed");
    expect((await tokens.review("not-a-jwt")).authenticated).toBe(false);

    const issued = await tokens.issue({ namespace: "team", serviceAccount: sa, expirationSeconds: 600 });
    put("serviceaccounts", "team", "robot", "another-uid");
    expect((await tokens.review(issued.token)).error).toBe("service account team/robot no longer exists");
  });

  test("a pod-bound token dies with its pod; the projected default gets a year and warnafter", async () => {
    put("serviceaccounts", "team", "robot", "sa-uid");
    put("pods", "team", "web", "pod-uid");
    const issued = await tokens.issue({
      namespace: "team",
      serviceAccount: sa,
      expirationSeconds: 3607,
      boundObject: { kind: "Pod", name: "web", uid: "pod-uid" },
    });
    const claims = decodeJwt(issued.token);
    expect(claims.exp! - claims.iat!).toBe(365 * 24 * 3600);
    expect(claims["kubernetes.io"]).toMatchObject({
      pod: { name: "web", uid: "pod-uid" },
      warnafter: claims.iat! + 3607,
    });
    const ok = await tokens.review(issued.token);
    expect(ok.user?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["web"]);
    objects.delete("pods/team/web");
    expect((await tokens.review(issued.token)).error).toBe("pod team/web no longer exists");
  });

  test("a node-bound token dies with its Node", async () => {
    put("serviceaccounts", "team", "robot", "sa-uid");
    put("nodes", "", "n1", "node-uid");
    const issued = await tokens.issue({
      namespace: "team",
      serviceAccount: sa,
      expirationSeconds: 600,
      boundObject: { kind: "Node", name: "n1", uid: "node-uid" },
    });
    expect(
      (await tokens.review(issued.token)).user?.extra?.["authentication.kubernetes.io/node-name"],
    ).toEqual(["n1"]);
    objects.delete("nodes//n1");
    expect((await tokens.review(issued.token)).error).toBe("node n1 no longer exists");
  });

  test("legacy Secret tokens live as long as their Secret holds them", async () => {
    put("serviceaccounts", "team", "robot", "sa-uid");
    const token = await tokens.issueLegacy("team", sa, "robot-token");
    put("secrets", "team", "robot-token", "s-uid", { data: { token: btoa(token) } });
    expect((await tokens.review(token)).user?.username).toBe("system:serviceaccount:team:robot");
    objects.delete("secrets/team/robot-token");
    expect((await tokens.review(token)).error).toBe("secret team/robot-token no longer holds this token");
  });

  test("jwks publishes the public key only", async () => {
    const { keys } = await tokens.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(keys[0]!.d).toBeUndefined();
  });
});
