import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ensureBootstrapPolicy } from "../auth/bootstrap-policy.ts";
import { serviceAccountAdmission } from "../auth/service-account-admission.ts";
import {
  createServiceAccountTokens,
  generateSigningKeyPem,
  type ServiceAccountTokens,
} from "../auth/service-account-tokens.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { createServiceAccountIssuer } from "./service-account-issuer.ts";

const ADMIN = "admin-token";
const RBAC = "rbac.authorization.k8s.io";
let store: Store;
let registry: Registry;
let tokens: ServiceAccountTokens;
let app: ReturnType<typeof createApiServer>;
let key: string;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store, {
    admit: [serviceAccountAdmission((ns, n) => store.get("serviceaccounts", ns, n))],
  });
  await registry.bootstrap();
  await ensureBootstrapPolicy(registry);
  key ??= await generateSigningKeyPem();
  tokens = await createServiceAccountTokens({
    signingKeyPem: key,
    lookup: (r, ns, n) => store.get(r, ns, n),
  });
  app = createApiServer({
    client: registry,
    auth: { token: ADMIN, serviceAccounts: tokens },
    tokens,
    routes: [createServiceAccountIssuer(tokens)],
  });
  await registry.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
  await registry.create("serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot", namespace: "team" },
  });
});
afterEach(async () => {
  await store.close();
});

const as =
  (token: string) =>
  async (path: string, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
        ...(init.headers as Record<string, string>),
      },
    });
const admin = as(ADMIN);
const post = (body: unknown): RequestInit => ({ method: "POST", body: JSON.stringify(body) });

async function robotToken(): Promise<string> {
  const res = await admin(
    "/api/v1/namespaces/team/serviceaccounts/robot/token",
    post({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: {} }),
  );
  expect(res.status).toBe(201);
  return (await res.json()).status.token;
}

async function bind(name: string, role: string, kind = "ClusterRole", namespace = "team"): Promise<void> {
  await registry.create(`rolebindings.${RBAC}`, {
    apiVersion: `${RBAC}/v1`,
    kind: "RoleBinding",
    metadata: { name, namespace },
    roleRef: { apiGroup: RBAC, kind, name: role },
    subjects: [{ kind: "ServiceAccount", name: "robot", namespace: "team" }],
  } as KubeObject);
}

describe("service-account tokens at the API", () => {
  test("TokenRequest answers a TokenRequest with defaults; too short an expiry is Invalid", async () => {
    const res = await admin(
      "/api/v1/namespaces/team/serviceaccounts/robot/token",
      post({ spec: { expirationSeconds: 1200 } }),
    );
    const body = await res.json();
    expect(body).toMatchObject({
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: "robot", namespace: "team" },
      spec: { audiences: ["https://kubernetes.default.svc.cluster.local"], expirationSeconds: 1200 },
    });
    expect(body.status.token.split(".")).toHaveLength(3);
    const short = await admin(
      "/api/v1/namespaces/team/serviceaccounts/robot/token",
      post({ spec: { expirationSeconds: 60 } }),
    );
    expect(short.status).toBe(422);
    expect((await short.json()).message).toContain("may not specify a duration less than 10 minutes");
    const missing = await admin("/api/v1/namespaces/team/serviceaccounts/nobody/token", post({ spec: {} }));
    expect(missing.status).toBe(404);
  });

  test("a token authenticates as the ServiceAccount; a bad one or one of a deleted SA is 401", async () => {
    const token = await robotToken();
    const who = await as(token)("/apis/authentication.k8s.io/v1/selfsubjectreviews", post({}));
    expect((await who.json()).status.userInfo).toMatchObject({
      username: "system:serviceaccount:team:robot",
      groups: ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"],
    });
    expect((await as(`${token.slice(0, -4)}AAAA`)("/api/v1/namespaces/team/pods")).status).toBe(401);
    await registry.delete("serviceaccounts", "team", "robot");
    expect((await as(token)("/api")).status).toBe(401);
  });

  test("TokenReview tells who a token belongs to, or why not", async () => {
    const token = await robotToken();
    const ok = await (
      await admin("/apis/authentication.k8s.io/v1/tokenreviews", post({ spec: { token } }))
    ).json();
    expect(ok.status).toMatchObject({
      authenticated: true,
      user: { username: "system:serviceaccount:team:robot" },
    });
    expect(ok.spec.token).toBeUndefined();
    const bad = await (
      await admin(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        post({ spec: { token, audiences: ["vault"] } }),
      )
    ).json();
    expect(bad.status).toMatchObject({ authenticated: false, error: "token audiences do not match" });
  });
});

test("service accounts read the issuer's OpenID discovery; its keys verify their tokens", async () => {
  const token = await robotToken();
  const config = await (await as(token)("https://minik.test/.well-known/openid-configuration")).json();
  expect(config).toMatchObject({
    issuer: "https://kubernetes.default.svc.cluster.local",
    jwks_uri: "https://minik.test/openid/v1/jwks",
    id_token_signing_alg_values_supported: ["ES256"],
  });
  const res = await as(token)("/openid/v1/jwks");
  expect(res.headers.get("Content-Type")).toBe("application/jwk-set+json");
  const { keys } = await res.json();
  const { createLocalJWKSet, jwtVerify } = await import("jose");
  const { payload } = await jwtVerify(token, createLocalJWKSet({ keys }));
  expect(payload.sub).toBe("system:serviceaccount:team:robot");
  expect((await app.request("/openid/v1/jwks")).status).toBe(401);
});

describe("RBAC at the API", () => {
  test("without a binding: discovery yes, pods 403 with Kubernetes' text", async () => {
    const robot = as(await robotToken());
    expect((await robot("/api")).status).toBe(200);
    expect((await robot("/version")).status).toBe(200);
    const res = await robot("/api/v1/namespaces/team/pods");
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      code: 403,
      message:
        'pods is forbidden: User "system:serviceaccount:team:robot" cannot list resource "pods" in API group "" in the namespace "team"',
      details: { kind: "pods", group: "" },
    });
    const named = await (await robot("/api/v1/namespaces/team/configmaps/kube-root-ca.crt")).json();
    expect(named.message).toBe(
      'configmaps "kube-root-ca.crt" is forbidden: User "system:serviceaccount:team:robot" cannot get resource "configmaps" in API group "" in the namespace "team"',
    );
    const nodes = await (await robot("/api/v1/nodes")).json();
    expect(nodes.message).toContain('cannot list resource "nodes" in API group "" at the cluster scope');
    expect((await (await robot("/metrics")).json()).message).toBe(
      'forbidden: User "system:serviceaccount:team:robot" cannot get path "/metrics"',
    );
  });

  test("a RoleBinding to view: pods and pods/log yes; secrets, exec, writes and other namespaces no", async () => {
    const robot = as(await robotToken());
    await bind("view", "view");
    // view is aggregated by the controller; until it runs, copy the rules (the controller has its own test)
    const view = await registry.get(`clusterroles.${RBAC}`, "", "view");
    const source = await registry.get(`clusterroles.${RBAC}`, "", "system:aggregate-to-view");
    await registry.update(`clusterroles.${RBAC}`, { ...view, rules: source.rules });
    expect((await robot("/api/v1/namespaces/team/pods")).status).toBe(200);
    expect((await robot("/apis/apps/v1/namespaces/team/deployments")).status).toBe(200);
    expect((await robot("/api/v1/namespaces/team/secrets")).status).toBe(403);
    expect((await robot("/api/v1/namespaces/default/pods")).status).toBe(403);
    expect((await robot("/api/v1/namespaces/team/pods/x/log")).status).not.toBe(403);
    expect((await robot("/api/v1/namespaces/team/pods/x/exec?command=ls")).status).toBe(403);
    expect((await robot("/api/v1/namespaces/team/pods", post({ metadata: { name: "x" } }))).status).toBe(403);
  });

  test("resourceNames limit a Role to named objects", async () => {
    const robot = as(await robotToken());
    await registry.create(`roles.${RBAC}`, {
      apiVersion: `${RBAC}/v1`,
      kind: "Role",
      metadata: { name: "one-cm", namespace: "team" },
      rules: [
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["kube-root-ca.crt"] },
      ],
    } as KubeObject);
    await bind("one-cm", "one-cm", "Role");
    await registry.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kube-root-ca.crt", namespace: "team" },
    });
    expect((await robot("/api/v1/namespaces/team/configmaps/kube-root-ca.crt")).status).toBe(200);
    expect((await robot("/api/v1/namespaces/team/configmaps/other")).status).toBe(403);
    expect((await robot("/api/v1/namespaces/team/configmaps")).status).toBe(403);
  });

  test("access reviews answer from the same authorizer, impersonation is the admin's", async () => {
    const robotToken_ = await robotToken();
    const robot = as(robotToken_);
    await bind("edit", "system:aggregate-to-edit");
    const review = (spec: unknown, headers: Record<string, string> = {}) =>
      admin("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { ...post({ spec }), headers }).then(
        (r) => r.json(),
      );
    const pods = { resourceAttributes: { namespace: "team", verb: "create", resource: "pods" } };
    expect((await review(pods)).status.allowed).toBe(true);
    const asRobot = { "Impersonate-User": "system:serviceaccount:team:robot" };
    expect((await review(pods, asRobot)).status).toMatchObject({
      allowed: true,
      reason: expect.stringContaining("RoleBinding"),
    });
    const nodes = { resourceAttributes: { verb: "list", resource: "nodes" } };
    expect((await review(nodes, asRobot)).status.allowed).toBe(false);
    const sar = await admin(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      post({
        spec: { ...pods, user: "system:serviceaccount:team:robot", groups: ["system:serviceaccounts"] },
      }),
    );
    expect((await sar.json()).status.allowed).toBe(true);
    // the robot may impersonate service accounts in team (edit grants it) but not users
    const tryUser = await robot("/api/v1/namespaces/team/pods", {
      headers: { "Impersonate-User": "minik-admin" },
    });
    expect(tryUser.status).toBe(403);
    expect((await tryUser.json()).message).toBe(
      'users "minik-admin" is forbidden: User "system:serviceaccount:team:robot" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
    // and cannot ask about others
    expect(
      (
        await robot(
          "/apis/authorization.k8s.io/v1/subjectaccessreviews",
          post({ spec: { ...pods, user: "x" } }),
        )
      ).status,
    ).toBe(403);
    const rules = await (
      await robot(
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        post({ spec: { namespace: "team" } }),
      )
    ).json();
    expect(rules.status.resourceRules).toContainEqual(
      expect.objectContaining({ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] }),
    );
  });

  test("escalation: a role granting more than its creator holds, or binding one, is refused", async () => {
    const robot = as(await robotToken());
    await bind("admin", "system:aggregate-to-admin");
    await bind("edit", "system:aggregate-to-edit");
    const role = (name: string, rules: unknown[]) =>
      robot(
        `/apis/${RBAC}/v1/namespaces/team/roles`,
        post({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name }, rules }),
      );
    const held = await role("pods", [{ apiGroups: [""], resources: ["pods"], verbs: ["create", "delete"] }]);
    expect(held.status).toBe(201);
    const more = await role("nodes", [{ apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get"] }]);
    expect(more.status).toBe(403);
    const message = (await more.json()).message;
    expect(message).toContain(
      'roles.rbac.authorization.k8s.io "nodes" is forbidden: user "system:serviceaccount:team:robot"',
    );
    expect(message).toContain(
      'is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}',
    );
    const binding = (roleRef: unknown) =>
      robot(
        `/apis/${RBAC}/v1/namespaces/team/rolebindings`,
        post({
          apiVersion: `${RBAC}/v1`,
          kind: "RoleBinding",
          metadata: { name: "b" },
          roleRef,
          subjects: [{ kind: "ServiceAccount", name: "robot", namespace: "team" }],
        }),
      );
    expect((await binding({ apiGroup: RBAC, kind: "ClusterRole", name: "cluster-admin" })).status).toBe(403);
    expect((await binding({ apiGroup: RBAC, kind: "Role", name: "pods" })).status).toBe(201);
    const patch = await robot(`/apis/${RBAC}/v1/namespaces/team/roles/pods`, {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] }),
    });
    expect(patch.status).toBe(403);
    // a patch within what the robot holds goes through (checked on a dry run of it)
    const narrower = await robot(`/apis/${RBAC}/v1/namespaces/team/roles/pods`, {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["delete"] }] }),
    });
    expect(narrower.status).toBe(200);
    expect((await registry.get(`roles.${RBAC}`, "team", "pods")).rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
    ]);
    // the admin may grant anything
    const adminRole = await admin(
      `/apis/${RBAC}/v1/namespaces/team/roles`,
      post({
        apiVersion: `${RBAC}/v1`,
        kind: "Role",
        metadata: { name: "all" },
        rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
      }),
    );
    expect(adminRole.status).toBe(201);
  });

  test("pods get the kube-api-access volume unless they or their ServiceAccount opt out", async () => {
    const pod = (name: string, extra: Record<string, unknown> = {}) =>
      registry.create<KubeObject>("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "team" },
        spec: { serviceAccountName: "robot", containers: [{ name: "c", image: "busybox" }], ...extra },
      } as KubeObject) as Promise<KubeObject & { spec?: { volumes?: unknown[] } }>;
    const mounted = (await pod("a")).spec as unknown as {
      volumes: { name: string; projected: unknown }[];
      containers: { volumeMounts: unknown[] }[];
    };
    expect(mounted.volumes[0]!.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(mounted.volumes[0]!.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        {
          downwardAPI: {
            items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
          },
        },
      ],
    });
    expect(mounted.containers[0]!.volumeMounts).toEqual([
      {
        name: mounted.volumes[0]!.name,
        readOnly: true,
        mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
      },
    ]);
    expect((await pod("b", { automountServiceAccountToken: false })).spec?.volumes).toBeUndefined();
    const sa = await registry.get("serviceaccounts", "team", "robot");
    await registry.update("serviceaccounts", { ...sa, automountServiceAccountToken: false });
    expect((await pod("c")).spec?.volumes).toBeUndefined();
  });
});
