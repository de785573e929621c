import { afterEach, expect, test } from "bun:test";
import type { Pod } from "kubernetes-types/core/v1";
import { createApiServer } from "../api/app.ts";
import { ensureBootstrapPolicy } from "../auth/bootstrap-policy.ts";
import { nodeBearer } from "../auth/node-token.ts";
import { createServiceAccountTokens, generateSigningKeyPem } from "../auth/service-account-tokens.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { httpPodTokenSource } from "./http-token-source.ts";

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
});

test("a joined node gets a pod's projected token by TokenRequest, bound to the pod", async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const s = store;
  const registry = createRegistry(s);
  await registry.bootstrap();
  await ensureBootstrapPolicy(registry);
  const tokens = await createServiceAccountTokens({
    signingKeyPem: await generateSigningKeyPem(),
    lookup: (r, ns, n) => s.get(r, ns, n),
  });
  const app = createApiServer({
    client: registry,
    auth: { token: "admin", nodeSecret: "join", serviceAccounts: tokens },
    tokens,
  });
  await registry.create("serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default", namespace: "default" },
  });
  const pod = await registry.create<Pod & KubeObject>("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "app", namespace: "default" },
    spec: { nodeName: "worker", containers: [{ name: "c", image: "busybox" }] },
  });
  const source = httpPodTokenSource({
    server: "https://minik.test",
    bearer: nodeBearer("worker", "join"),
    fetch: (input, init) => Promise.resolve(app.request(input, init)),
  });
  const token = await source(pod, { path: "token", audience: "vault", expirationSeconds: 3600 });
  const review = await tokens.review(token, ["vault"]);
  expect(review.authenticated).toBe(true);
  expect(review.user?.username).toBe("system:serviceaccount:default:default");
  expect(review.user?.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["app"]);
});
