import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";

let store: Store;
let app: ReturnType<typeof createApiServer>;
beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  app = createApiServer({ client, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

const call = (path: string, init: RequestInit = {}) =>
  app.request(path, {
    ...init,
    headers: { Authorization: "Bearer t", "Content-Type": "application/json", ...(init.headers as object) },
  });

describe("autoscaling/v1 HorizontalPodAutoscalers", () => {
  test("a v1 create is stored as v2 with a cpu Utilization metric and answered as v1", async () => {
    const res = await call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", {
      method: "POST",
      body: JSON.stringify({
        apiVersion: "autoscaling/v1",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "web" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
          minReplicas: 1,
          maxReplicas: 4,
          targetCPUUtilizationPercentage: 60,
        },
      }),
    });
    expect(res.status).toBe(201);
    const v1 = await res.json();
    expect(v1).toMatchObject({
      apiVersion: "autoscaling/v1",
      spec: { maxReplicas: 4, targetCPUUtilizationPercentage: 60 },
    });
    expect(v1.spec.metrics).toBeUndefined();
    const v2 = await (
      await call("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web")
    ).json();
    expect(v2.apiVersion).toBe("autoscaling/v2");
    expect(v2.spec.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } },
      },
    ]);
    const list = await (
      await call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers")
    ).json();
    expect(list.items[0].spec.targetCPUUtilizationPercentage).toBe(60);
    expect(
      (
        await call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web", {
          method: "DELETE",
        })
      ).status,
    ).toBe(200);
    expect((await call("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web")).status).toBe(
      404,
    );
  });

  test("autoscaling/v1 is in discovery beside v2, watched as v1, and a v1 body written to v2 has no deprecation warning", async () => {
    const agg = await (
      await call("/apis", {
        headers: { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" },
      })
    ).json();
    const group = agg.items.find((g: { metadata: { name: string } }) => g.metadata.name === "autoscaling");
    expect(group.versions.map((v: { version: string }) => v.version)).toEqual(["v2", "v1"]);
    const legacy = await (await call("/apis/autoscaling")).json();
    expect(legacy.versions.map((v: { version: string }) => v.version)).toEqual(["v2", "v1"]);
    expect(legacy.preferredVersion.version).toBe("v2");
    const v1List = await (await call("/apis/autoscaling/v1")).json();
    expect(v1List.resources.map((r: { name: string }) => r.name)).toEqual(["horizontalpodautoscalers"]);

    const hpa = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "w" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "w" }, maxReplicas: 2 },
    };
    const put = await call("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", {
      method: "POST",
      body: JSON.stringify(hpa),
    });
    expect(put.status).toBe(201);
    expect(put.headers.get("Warning")).toBeNull();

    const res = await call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers?watch=1");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("ADDED")) text += new TextDecoder().decode((await reader.read()).value);
    const event = JSON.parse(text.trim().split("\n")[0]!);
    expect(event.object.apiVersion).toBe("autoscaling/v1");
    await reader.cancel();
  });
});
