import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createServiceAccountTokens, generateSigningKeyPem } from "../auth/service-account-tokens.ts";
import type { KubeObject } from "../object.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

test("a service-account-token Secret is filled with a token that lives as long as the Secret", async () => {
  let registry: TestCluster["client"] | undefined;
  const tokens = await createServiceAccountTokens({
    signingKeyPem: await generateSigningKeyPem(),
    lookup: (r, ns, n) => registry!.tryGet(r, ns, n),
  });
  cluster = await startTestCluster({ tokens, rootCaPem: CA });
  registry = cluster.client;
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: {
      name: "robot-token",
      namespace: "default",
      annotations: { "kubernetes.io/service-account.name": "robot" },
    },
  } as KubeObject;
  await registry.create("secrets", secret);
  // the ServiceAccount comes after its Secret
  const sa: KubeObject = await registry.create("serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot", namespace: "default" },
  });
  const filled = await waitFor(async () => {
    const s = await registry!.get("secrets", "default", "robot-token");
    return (s.data as Record<string, string> | undefined)?.token ? s : undefined;
  });
  const data = filled.data as Record<string, string>;
  expect(atob(data["ca.crt"]!)).toBe(CA);
  expect(atob(data.namespace!)).toBe("default");
  expect(filled.metadata.annotations?.["kubernetes.io/service-account.uid"]).toBe(sa.metadata.uid!);
  const token = atob(data.token!);
  expect((await tokens.review(token)).user?.username).toBe("system:serviceaccount:default:robot");
  await registry.delete("secrets", "default", "robot-token");
  expect((await tokens.review(token)).authenticated).toBe(false);
  expect(cluster.logs).toEqual([]);
});
