import { expect, test } from "bun:test";
import type { KubeObject } from "../object.ts";
import { useApiServer } from "./testing/api-server.ts";

const api = useApiServer();
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io";

async function table(path: string) {
  const t = await (await api.call(path, { headers: { Accept: TABLE } })).json();
  return {
    columns: t.columnDefinitions.map((c: { name: string }) => c.name),
    rows: t.rows.map((r: { cells: unknown[] }) => r.cells),
  };
}

test("the chart kinds are in discovery", async () => {
  const core = await (await api.call("/api/v1")).json();
  const names = core.resources.map((r: { name: string }) => r.name);
  expect(names).toEqual(
    expect.arrayContaining(["podtemplates", "limitranges", "resourcequotas", "resourcequotas/status"]),
  );
  const quota = core.resources.find((r: { name: string }) => r.name === "resourcequotas");
  expect(quota.shortNames).toEqual(["quota"]);
  expect((await (await api.call("/apis/scheduling.k8s.io/v1")).json()).resources[0].shortNames).toEqual([
    "pc",
  ]);
  expect((await (await api.call("/apis/node.k8s.io/v1")).json()).resources[0].name).toBe("runtimeclasses");
});

test("Tables with kubectl's columns", async () => {
  const pcs = await table("/apis/scheduling.k8s.io/v1/priorityclasses");
  expect(pcs.columns).toEqual(["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]);
  expect(pcs.rows[0].slice(0, 3)).toEqual(["system-cluster-critical", 2000000000, false]);
  expect(pcs.rows[0][4]).toBe("PreemptLowerPriority");

  const q = await api.client.create("resourcequotas", {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "q", namespace: "default" },
    spec: { hard: { pods: "4", "limits.cpu": "2", "requests.cpu": "1" } },
  });
  await api.client.updateStatus("resourcequotas", {
    ...q,
    status: {
      hard: { pods: "4", "limits.cpu": "2", "requests.cpu": "1" },
      used: { pods: "1", "limits.cpu": "500m", "requests.cpu": "0" },
    },
  });
  const quotas = await table("/api/v1/namespaces/default/resourcequotas");
  expect(quotas.columns).toEqual(["Name", "Age", "Request", "Limit"]);
  expect(quotas.rows[0][2]).toBe("pods: 1/4, requests.cpu: 0/1");
  expect(quotas.rows[0][3]).toBe("limits.cpu: 500m/2");

  await api.client.create("podtemplates", {
    apiVersion: "v1",
    kind: "PodTemplate",
    metadata: { name: "t", namespace: "default" },
    template: {
      metadata: { labels: { app: "t" } },
      spec: { containers: [{ name: "c", image: "busybox:1.36" }] },
    },
  } as KubeObject);
  const templates = await table("/api/v1/namespaces/default/podtemplates");
  expect(templates.columns).toEqual(["Name", "Containers", "Images", "Pod Labels"]);
  expect(templates.rows[0]).toEqual(["t", "c", "busybox:1.36", "app=t"]);

  await api.client.create("runtimeclasses.node.k8s.io", {
    apiVersion: "node.k8s.io/v1",
    kind: "RuntimeClass",
    metadata: { name: "crun" },
    handler: "crun",
  } as KubeObject);
  const rcs = await table("/apis/node.k8s.io/v1/runtimeclasses");
  expect(rcs.columns).toEqual(["Name", "Handler", "Age"]);
  expect(rcs.rows[0].slice(0, 2)).toEqual(["crun", "crun"]);

  expect((await table("/api/v1/namespaces/default/limitranges")).columns).toEqual(["Name", "Created At"]);
});
