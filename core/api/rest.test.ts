import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";

let store: Store;
let client: Registry;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const registry = createRegistry(store);
  await registry.bootstrap();
  client = registry;
  app = createApiServer({ client, auth: { token: "t" }, bookmarkIntervalMs: 50 });
});
afterEach(async () => {
  await store.close();
});

const TABLE =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
function call(path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers: Record<string, string> = {
    Authorization: "Bearer t",
    ...(init.headers as Record<string, string>),
  };
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  if (init.json !== undefined && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
  return app.request(path, { ...init, headers, body });
}

const deployment = (name: string, replicas = 2) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "web", image: "nginx:1.25" }] },
    },
  },
});
const DEPLOYS = "/apis/apps/v1/namespaces/default/deployments";

describe("objects", () => {
  test("create, get, list, replace, delete a deployment", async () => {
    const created = await call(DEPLOYS, { method: "POST", json: deployment("web") });
    expect(created.status).toBe(201);
    const obj = await created.json();
    expect(obj).toMatchObject({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
    });
    expect(obj.metadata.uid).toBeTruthy();

    const again = await call(DEPLOYS, { method: "POST", json: deployment("web") });
    expect(again.status).toBe(409);
    expect((await again.json()).reason).toBe("AlreadyExists");

    const got = await (await call(`${DEPLOYS}/web`)).json();
    expect(got.spec.replicas).toBe(2);

    const list = await (await call(DEPLOYS)).json();
    expect(list.kind).toBe("DeploymentList");
    expect(list.metadata.resourceVersion).toBeTruthy();
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(["web"]);
    expect((await (await call("/apis/apps/v1/deployments")).json()).items).toHaveLength(1);

    got.spec.replicas = 5;
    const put = await call(`${DEPLOYS}/web`, { method: "PUT", json: got });
    expect(put.status).toBe(200);
    expect((await put.json()).spec.replicas).toBe(5);
    const stale = await call(`${DEPLOYS}/web`, { method: "PUT", json: got });
    expect(stale.status).toBe(409);
    expect((await stale.json()).reason).toBe("Conflict");

    const del = await call(`${DEPLOYS}/web`, { method: "DELETE", json: { propagationPolicy: "Background" } });
    expect(del.status).toBe(200);
    const status = await del.json();
    expect(status).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "web", uid: obj.metadata.uid },
    });
    const gone = await call(`${DEPLOYS}/web`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({
      reason: "NotFound",
      message: 'deployments.apps "web" not found',
    });
  });

  test("body namespace and kind must agree with the URL", async () => {
    const other = { ...deployment("x"), metadata: { name: "x", namespace: "kube-system" } };
    expect((await call(DEPLOYS, { method: "POST", json: other })).status).toBe(400);
    const wrongKind = { ...deployment("x"), kind: "ReplicaSet" };
    expect((await call(DEPLOYS, { method: "POST", json: wrongKind })).status).toBe(400);
  });

  test("fieldValidation: Strict is 400, Warn answers with a Warning header, Ignore is silent", async () => {
    const bad = { ...deployment("fv"), spec: { ...deployment("fv").spec, foo: 1 } };
    const strict = await call(`${DEPLOYS}?fieldValidation=Strict`, { method: "POST", json: bad });
    expect(strict.status).toBe(400);
    expect((await strict.json()).message).toContain('unknown field "spec.foo"');
    const warn = await call(`${DEPLOYS}?fieldValidation=Warn`, { method: "POST", json: bad });
    expect(warn.status).toBe(201);
    expect(warn.headers.get("Warning")).toBe('299 - "unknown field \\"spec.foo\\""');
    await call(`${DEPLOYS}/fv`, { method: "DELETE" });
    const ignore = await call(`${DEPLOYS}?fieldValidation=Ignore`, { method: "POST", json: bad });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.get("Warning")).toBeNull();
    expect((await call(`${DEPLOYS}?fieldValidation=Loud`, { method: "POST", json: bad })).status).toBe(400);
  });

  test("PATCH: merge, JSON patch, and server-side apply that creates (201) then updates (200)", async () => {
    await call(DEPLOYS, { method: "POST", json: deployment("p", 1) });
    const merge = await call(`${DEPLOYS}/p`, {
      method: "PATCH",
      headers: { "Content-Type": "application/merge-patch+json" },
      json: { metadata: { labels: { tier: "x" } } },
    });
    expect(merge.status).toBe(200);
    expect((await merge.json()).metadata.labels).toEqual({ app: "p", tier: "x" });
    const jsonPatch = await call(`${DEPLOYS}/p`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json-patch+json" },
      json: [{ op: "replace", path: "/spec/replicas", value: 3 }],
    });
    expect((await jsonPatch.json()).spec.replicas).toBe(3);
    const applyNew = await call(`${DEPLOYS}/ssa?fieldManager=test`, {
      method: "PATCH",
      headers: { "Content-Type": "application/apply-patch+yaml" },
      json: deployment("ssa", 1),
    });
    expect(applyNew.status).toBe(201);
    const applyAgain = await call(`${DEPLOYS}/ssa?fieldManager=test`, {
      method: "PATCH",
      headers: { "Content-Type": "application/apply-patch+yaml" },
      json: deployment("ssa", 2),
    });
    expect(applyAgain.status).toBe(200);
    expect((await applyAgain.json()).spec.replicas).toBe(2);
    const wrongType = await call(`${DEPLOYS}/p`, { method: "PATCH", json: { spec: {} } });
    expect(wrongType.status).toBe(415);
  });

  test("dryRun=All does not persist", async () => {
    const res = await call(`${DEPLOYS}?dryRun=All`, { method: "POST", json: deployment("dry") });
    expect(res.status).toBe(201);
    expect((await call(`${DEPLOYS}/dry`)).status).toBe(404);
  });

  test("label and field selectors on list", async () => {
    for (const name of ["a", "b"]) {
      await call("/api/v1/namespaces/default/configmaps", {
        method: "POST",
        json: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { tier: name } } },
      });
    }
    const names = async (q: string) =>
      (await (await call(`/api/v1/namespaces/default/configmaps?${q}`)).json()).items.map(
        (i: { metadata: { name: string } }) => i.metadata.name,
      );
    expect(await names("labelSelector=tier%3Db")).toEqual(["b"]);
    expect(await names("fieldSelector=metadata.name%3Da")).toEqual(["a"]);
    expect(await names("labelSelector=tier&limit=500")).toEqual(["a", "b"]);
  });

  test("deletecollection removes what matches", async () => {
    for (const name of ["a", "b", "c"]) {
      await call("/api/v1/namespaces/default/configmaps", {
        method: "POST",
        json: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name, labels: { drop: name === "c" ? "no" : "yes" } },
        },
      });
    }
    const res = await call("/api/v1/namespaces/default/configmaps?labelSelector=drop%3Dyes", {
      method: "DELETE",
    });
    expect(res.status).toBe(200);
    const left = await client.list("configmaps", { namespace: "default" });
    expect(left.items.map((i) => i.metadata.name)).toEqual(["c"]);
  });

  test("cluster-scoped namespaces and their status subresource", async () => {
    const res = await call("/api/v1/namespaces", {
      method: "POST",
      json: { apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } },
    });
    expect(res.status).toBe(201);
    const st = await call("/api/v1/namespaces/demo/status");
    expect((await st.json()).metadata.name).toBe("demo");
    const names = (await (await call("/api/v1/namespaces")).json()).items.map(
      (i: { metadata: { name: string } }) => i.metadata.name,
    );
    expect(names).toContain("demo");
  });
});

describe("subresources", () => {
  test("scale: GET, PUT without Content-Type, resourceVersion precondition", async () => {
    await call(DEPLOYS, { method: "POST", json: deployment("s", 1) });
    const scale = await (await call(`${DEPLOYS}/s/scale`)).json();
    expect(scale).toMatchObject({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      spec: { replicas: 1 },
      status: { selector: "app=s" },
    });
    const put = await app.request(`${DEPLOYS}/s/scale`, {
      method: "PUT",
      headers: { Authorization: "Bearer t" },
      // bytes, not a string: Deno (per fetch) labels a string body text/plain
      body: new TextEncoder().encode(JSON.stringify({ ...scale, spec: { replicas: 4 } })),
    });
    expect(put.status).toBe(200);
    expect((await put.json()).spec.replicas).toBe(4);
    expect(
      (
        await client.get<{ spec: { replicas: number } } & import("../object.ts").KubeObject>(
          "deployments.apps",
          "default",
          "s",
        )
      ).spec.replicas,
    ).toBe(4);
    const stale = await call(`${DEPLOYS}/s/scale`, {
      method: "PUT",
      json: { ...scale, spec: { replicas: 6 } },
    });
    expect(stale.status).toBe(409);
  });

  test("status: PUT changes only status", async () => {
    await call(DEPLOYS, { method: "POST", json: deployment("st", 1) });
    const obj = await (await call(`${DEPLOYS}/st`)).json();
    obj.status = { replicas: 1, readyReplicas: 1 };
    obj.spec.replicas = 9;
    const res = await call(`${DEPLOYS}/st/status`, { method: "PUT", json: obj });
    expect(res.status).toBe(200);
    const after = await (await call(`${DEPLOYS}/st`)).json();
    expect(after.status.readyReplicas).toBe(1);
    expect(after.spec.replicas).toBe(1);
  });

  test("pods/eviction deletes the pod", async () => {
    await call("/api/v1/namespaces/default/pods", {
      method: "POST",
      json: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    });
    const res = await call("/api/v1/namespaces/default/pods/p/eviction", {
      method: "POST",
      json: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: "p", namespace: "default" },
        deleteOptions: { gracePeriodSeconds: 0 },
      },
    });
    expect(res.status).toBe(201);
    expect(await client.tryGet("pods", "default", "p")).toBeUndefined();
  });

  test("eviction honours a PodDisruptionBudget that allows no disruption (429)", async () => {
    await call("/api/v1/namespaces/default/pods", {
      method: "POST",
      json: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "kept", labels: { app: "kept" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    });
    const pdb = await client.create("poddisruptionbudgets.policy", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "kept", namespace: "default" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "kept" } } },
    });
    await client.updateStatus("poddisruptionbudgets.policy", {
      ...pdb,
      status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    });
    const res = await call("/api/v1/namespaces/default/pods/kept/eviction", {
      method: "POST",
      json: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "kept" } },
    });
    expect(res.status).toBe(429);
    expect((await res.json()).message).toContain("disruption budget");
    expect(await client.tryGet("pods", "default", "kept")).toBeDefined();
  });

  test("pods/binding assigns the pod (201 Status) and refuses a second binding with 409", async () => {
    await call("/api/v1/namespaces/default/pods", {
      method: "POST",
      json: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "b" },
        spec: { schedulerName: "my-scheduler", containers: [{ name: "c", image: "busybox" }] },
      },
    });
    const bind = (node: string) =>
      call("/api/v1/namespaces/default/pods/b/binding", {
        method: "POST",
        json: {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name: "b" },
          target: { kind: "Node", name: node },
        },
      });
    const res = await bind("node-a");
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ kind: "Status", status: "Success" });
    const pod = (await client.get("pods", "default", "b")) as unknown as {
      spec: { nodeName?: string };
      status: { conditions?: { type: string; status: string }[] };
    };
    expect(pod.spec.nodeName).toBe("node-a");
    expect(pod.status.conditions).toContainEqual(
      expect.objectContaining({ type: "PodScheduled", status: "True" }),
    );
    const again = await bind("node-b");
    expect(again.status).toBe(409);
    expect((await again.json()).message).toContain('already assigned to node "node-a"');
  });

  test("unknown subresource is 404", async () => {
    await call(DEPLOYS, { method: "POST", json: deployment("u") });
    expect((await call(`${DEPLOYS}/u/log`)).status).toBe(404);
  });
});

describe("tables", () => {
  test("list and single GET answer Tables with kubectl's columns and row objects", async () => {
    await call(DEPLOYS, { method: "POST", json: deployment("t", 3) });
    const res = await call(DEPLOYS, { headers: { Accept: TABLE } });
    const table = await res.json();
    expect(table.kind).toBe("Table");
    expect(table.metadata.resourceVersion).toBeTruthy();
    expect(table.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      "Name",
      "Ready",
      "Up-to-date",
      "Available",
      "Age",
      "Containers",
      "Images",
      "Selector",
    ]);
    expect(table.columnDefinitions[0].format).toBe("name");
    expect(table.columnDefinitions.map((c: { priority: number }) => c.priority)).toEqual([
      0, 0, 0, 0, 0, 1, 1, 1,
    ]);
    expect(table.rows[0].cells).toEqual([
      "t",
      "0/3",
      0,
      0,
      expect.stringMatching(/^\d+s$/),
      "web",
      "nginx:1.25",
      "app=t",
    ]);
    expect(table.rows[0].object.kind).toBe("PartialObjectMetadata");
    expect(table.rows[0].object.metadata.name).toBe("t");

    const one = await (
      await call(`${DEPLOYS}/t?includeObject=Object`, { headers: { Accept: TABLE } })
    ).json();
    expect(one.rows).toHaveLength(1);
    expect(one.rows[0].object.spec.replicas).toBe(3);
    const none = await (await call(`${DEPLOYS}?includeObject=None`, { headers: { Accept: TABLE } })).json();
    expect(none.rows[0].object).toBeUndefined();
  });

  test("an empty list still has column definitions", async () => {
    const table = await (
      await call("/api/v1/namespaces/default/pods", { headers: { Accept: TABLE } })
    ).json();
    expect(table.rows).toEqual([]);
    expect(table.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 5)).toEqual([
      "Name",
      "Ready",
      "Status",
      "Restarts",
      "Age",
    ]);
  });
});

/** Reads ndjson watch events until `count` arrived. */
async function readEvents(
  res: Response,
  count: number,
): Promise<{ type: string; object: Record<string, any> }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: { type: string; object: Record<string, any> }[] = [];
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim();
      if (line) events.push(JSON.parse(line));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
    }
  }
  await reader.cancel();
  return events;
}

describe("watch", () => {
  const cm = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
  const CMS = "/api/v1/namespaces/default/configmaps";

  test("without resourceVersion: synthetic ADDED first, then live changes", async () => {
    await call(CMS, { method: "POST", json: cm("old") });
    const res = await call(`${CMS}?watch=true`);
    expect(res.status).toBe(200);
    const events = readEvents(res, 3);
    await call(CMS, { method: "POST", json: cm("new") });
    await call(`${CMS}/old`, { method: "DELETE" });
    const got = await events;
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "ADDED old",
      "ADDED new",
      "DELETED old",
    ]);
    expect(got[0]!.object.kind).toBe("ConfigMap");
    expect(got[0]!.object.apiVersion).toBe("v1");
  });

  test("from a resourceVersion: only later changes; fieldSelector narrows", async () => {
    await call(CMS, { method: "POST", json: cm("a") });
    const rv = (await (await call(CMS)).json()).metadata.resourceVersion;
    const res = await call(`${CMS}?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3Db`);
    const events = readEvents(res, 1);
    await call(CMS, { method: "POST", json: cm("c") });
    await call(CMS, { method: "POST", json: cm("b") });
    expect((await events).map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED b"]);
  });

  test("resumed with a label selector: leaving it is DELETED, entering it ADDED, whatever happened since", async () => {
    const labelled = (name: string, tier: string) => ({ ...cm(name), metadata: { name, labels: { tier } } });
    const put = async (name: string, tier: string) => {
      const cur = await (await call(`${CMS}/${name}`)).json();
      await call(`${CMS}/${name}`, {
        method: "PUT",
        json: { ...cur, metadata: { ...cur.metadata, labels: { tier } }, data: { changed: "yes" } },
      });
    };
    await call(CMS, { method: "POST", json: labelled("leaves", "web") });
    await call(CMS, { method: "POST", json: labelled("enters", "db") });
    await call(CMS, { method: "POST", json: labelled("stays", "web") });
    const rv = (await (await call(`${CMS}?labelSelector=tier%3Dweb`)).json()).metadata.resourceVersion;
    // while the client is away: one object leaves the selector, one enters, one just changes
    await put("leaves", "db");
    await put("enters", "web");
    await put("stays", "web");
    const res = await call(`${CMS}?watch=1&resourceVersion=${rv}&labelSelector=tier%3Dweb`);
    const got = await readEvents(res, 3);
    expect(got.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "DELETED leaves",
      "ADDED enters",
      "MODIFIED stays",
    ]);
    // DELETED carries the object as it last matched, at the change's resourceVersion (as the cacher)
    expect(got[0]!.object.metadata.labels).toEqual({ tier: "web" });
    const now = await (await call(`${CMS}/leaves`)).json();
    expect(got[0]!.object.metadata.resourceVersion).toBe(now.metadata.resourceVersion);
  });

  test("Table watch: one-row tables, column definitions only on the first", async () => {
    const res = await call(`${CMS}?watch=true`, { headers: { Accept: TABLE } });
    const events = readEvents(res, 2);
    await call(CMS, { method: "POST", json: cm("x") });
    await call(CMS, { method: "POST", json: cm("y") });
    const [first, second] = await events;
    expect(first!.object.kind).toBe("Table");
    expect(first!.object.columnDefinitions.map((c: { name: string }) => c.name)).toEqual([
      "Name",
      "Data",
      "Age",
    ]);
    expect(first!.object.rows[0].cells[0]).toBe("x");
    expect(second!.object.columnDefinitions).toBeUndefined();
    expect(second!.object.rows[0].cells[0]).toBe("y");
  });

  test("the stream opens with a newline so the headers go out before any event", async () => {
    const res = await call(`${CMS}?watch=true&resourceVersion=1`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("\n");
    await reader.cancel();
  });

  test("timeoutSeconds ends the stream; bookmarks when asked", async () => {
    const res = await call(`${CMS}?watch=true&resourceVersion=1&timeoutSeconds=1&allowWatchBookmarks=true`);
    const started = Date.now();
    const text = await res.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.type === "BOOKMARK" && l.object.kind === "ConfigMap")).toBe(true);
  });

  test("a compacted resourceVersion is an ERROR 410 Expired event, then the end", async () => {
    const s = await createSqlStore({ url: ":memory:", compactIntervalMs: 0, changeLogLimit: 2 });
    const reg = createRegistry(s);
    await reg.bootstrap();
    for (const n of ["a", "b", "c", "d", "e", "f"])
      await reg.create("configmaps", { ...cm(n), metadata: { name: n, namespace: "default" } });
    await s.compact();
    const small = createApiServer({ client: reg, auth: { token: "t" } });
    const res = await small.request(`${CMS}?watch=true&resourceVersion=2`, {
      headers: { Authorization: "Bearer t" },
    });
    const text = await waitFor(async () => await res.text(), { what: "watch to end" });
    const event = JSON.parse(text.trim().split("\n")[0]!);
    expect(event.type).toBe("ERROR");
    expect(event.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    await s.close();
  });
});
