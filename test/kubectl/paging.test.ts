import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

let c: Cluster;
const NAMES = ["cm-a", "cm-b", "cm-c", "cm-d", "cm-e"];

/** Real kubectl and the official JS client paging with limit/continue. */
describe.skipIf(skipUnless(hasKubectl, "kubectl paging", "needs /usr/bin/kubectl"))("paged lists", () => {
  beforeAll(async () => {
    c = await startCluster({ controllers: false, kubelet: false });
    await c.client.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "pages" } });
    for (const name of NAMES)
      await c.client.create("configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: "pages" },
        data: { k: name },
      });
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("kubectl get --chunk-size=2 asks three pages and prints every row once", async () => {
    const r = await c.kubectl(["get", "configmaps", "-n", "pages", "--chunk-size=2", "-v=6"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split("\n").slice(1);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(NAMES);
    // kubectl logs each request at -v=6: the first with limit=2, the next two with a continue token
    const gets = r.stderr.split("\n").filter((l) => /GET https:\/\/.*\/configmaps\?/.test(l));
    expect(gets.length).toBe(3);
    expect(gets[0]).toContain("limit=2");
    expect(gets[1]).toMatch(/continue=[A-Za-z0-9_-]+/);
    expect(gets[2]).toMatch(/continue=[A-Za-z0-9_-]+/);
    const json = await c.kubectl(["get", "configmaps", "-n", "pages", "--chunk-size=2", "-o", "name"]);
    expect(json.stdout.trim().split("\n")).toEqual(NAMES.map((n) => `configmap/${n}`));
  });

  test("client-node lists with limit and continue", async () => {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    // the harness's certificate is throw-away and self-signed
    kc.loadFromOptions({
      clusters: [{ name: "minik", server: c.url, skipTLSVerify: true }],
      users: [{ name: "minik", token: "kubectl-test-token" }],
      contexts: [{ name: "minik", cluster: "minik", user: "minik" }],
      currentContext: "minik",
    });
    const api = kc.makeApiClient(k8s.CoreV1Api);
    // Bun's fetch under client-node ignores the agent's TLS options; only this switch reaches it
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      await pages(api);
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    }
  });
});

async function pages(api: import("@kubernetes/client-node").CoreV1Api): Promise<void> {
  const first = await api.listNamespacedConfigMap({ namespace: "pages", limit: 3 });
  expect(first.items.map((i) => i.metadata?.name)).toEqual(NAMES.slice(0, 3));
  expect(first.metadata?.remainingItemCount).toBe(2);
  const rest = await api.listNamespacedConfigMap({
    namespace: "pages",
    limit: 3,
    _continue: first.metadata?._continue,
  });
  expect(rest.items.map((i) => i.metadata?.name)).toEqual(NAMES.slice(3));
  expect(rest.metadata?._continue).toBeUndefined();
}
