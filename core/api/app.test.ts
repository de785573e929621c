import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { ApiError } from "../errors.ts";
import { createRegistry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { AGGREGATED_CONTENT_TYPE } from "./discovery.ts";
import { decodeProtobufObject } from "./protobuf/decode.ts";
import { readFields } from "./protobuf/wire.ts";
import { FakeNodeServices } from "./testing/fake-node-services.ts";

const TOKEN = "s3cret";
let store: Store;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const client = createRegistry(store);
  await client.bootstrap();
  app = createApiServer({ client, node: new FakeNodeServices(), auth: { token: TOKEN } });
});
afterEach(async () => {
  await store.close();
});

const auth = { Authorization: `Bearer ${TOKEN}` };
const call = (path: string, init: RequestInit = {}, env = {}) =>
  app.request(path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } }, env);

describe("basics", () => {
  test("/version reports Kubernetes 1.32 without credentials", async () => {
    const res = await app.request("/version?timeout=5s");
    expect(res.status).toBe(200);
    const v = await res.json();
    expect(v.major).toBe("1");
    expect(v.minor).toBe("32");
    expect(v.gitVersion).toMatch(/^v1\.32\./);
  });

  test("probes answer ok without credentials", async () => {
    for (const p of ["/healthz", "/readyz", "/livez", "/readyz/ping"]) {
      const res = await app.request(p);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("ok");
    }
  });

  test("everything else needs the token and says 401 as a Status", async () => {
    const res = await app.request("/api/v1/namespaces");
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
    expect(
      (await app.request("/api/v1/namespaces", { headers: { Authorization: "Bearer wrong" } })).status,
    ).toBe(401);
    expect((await call("/api/v1/namespaces")).status).toBe(200);
  });

  test("anonymous access only when listening on loopback", async () => {
    const client = createRegistry(store);
    const open = createApiServer({ client, auth: { token: TOKEN, anonymous: true } });
    expect(
      (await open.request("http://127.0.0.1:7080/api/v1/namespaces", {}, { loopback: true })).status,
    ).toBe(200);
    expect(
      (await open.request("http://localhost:7080/api/v1/namespaces", {}, { loopback: true })).status,
    ).toBe(200);
    // DNS rebinding: a foreign host name pointed at 127.0.0.1 gets no anonymous access
    expect(
      (await open.request("http://evil.example:7080/api/v1/namespaces", {}, { loopback: true })).status,
    ).toBe(401);
    expect((await open.request("/api/v1/namespaces", {}, { loopback: false })).status).toBe(401);
  });

  test("a login link is used once; the session goes to the page in the fragment, the cookie is a one-time first paint", async () => {
    expect((await app.request("/minik/v1/login-links", { method: "POST" })).status).toBe(401);
    const link = await (await call("/minik/v1/login-links", { method: "POST" })).json();
    expect(link.url).toMatch(/^\/login\?code=[0-9a-f]+$/);
    const login = await app.request(link.url);
    expect(login.status).toBe(302);
    const session = /^\/#minik-session=(.+)$/.exec(login.headers.get("Location") ?? "")![1]!;
    const cookie = login.headers.get("Set-Cookie")!;
    expect(cookie).toStartWith("minik_first_paint=");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Max-Age=60");
    expect(
      (await app.request("/api/v1/namespaces", { headers: { "X-Minik-Session": session } })).status,
    ).toBe(200);
    // the cookie alone opens nothing of the API (a NodePort app on another port of 127.0.0.1 gets
    // every cookie of 127.0.0.1 and could replay it from its server)
    const firstPaint = cookie.split(";")[0]!;
    expect((await app.request("/api/v1/namespaces", { headers: { Cookie: firstPaint } })).status).toBe(401);
    expect((await app.request(link.url)).status).toBe(401);
    expect(
      (await app.request("/api/v1/namespaces", { headers: { "X-Minik-Session": "forged" } })).status,
    ).toBe(401);
  });

  test("mounted apps (routes, web) sit behind the same auth, and their ApiErrors become Status", async () => {
    const client = createRegistry(store);
    const extra = new Hono();
    extra.get("/minik/v1/things", () => {
      throw new ApiError("ServiceUnavailable", "no things here");
    });
    const web = new Hono();
    web.get("/", (c) => c.html(c.get("anonymousPage" as never) ? "<h1>shell</h1>" : "<h1>minik</h1>"));
    const withApps = createApiServer({ client, auth: { token: TOKEN }, routes: [extra], web });
    // the page itself without a session: its shell only (a reload; the script holds the session)
    expect(await (await withApps.request("/")).text()).toBe("<h1>shell</h1>");
    expect((await withApps.request("/minik/v1/things")).status).toBe(401);
    const page = await withApps.request("/", { headers: auth });
    expect(await page.text()).toBe("<h1>minik</h1>");
    const res = await withApps.request("/minik/v1/things", { headers: auth });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      reason: "ServiceUnavailable",
      message: "no things here",
    });
  });

  test("the optional log gets one line per request, errors included", async () => {
    const lines: string[] = [];
    const logged = createApiServer({
      client: createRegistry(store),
      auth: { token: TOKEN },
      log: (l) => lines.push(l),
    });
    await logged.request("/version");
    await logged.request("/api/v1/namespaces?limit=1");
    expect(lines[0]).toMatch(/^GET \/version 200 \d+ms$/);
    expect(lines[1]).toMatch(/^GET \/api\/v1\/namespaces\?limit=1 401 \d+ms$/);
  });

  test("unknown paths are a 404 Status", async () => {
    for (const p of ["/nope", "/api/v1/widgets", "/apis/example.com/v1/foos", "/api/v2"]) {
      const res = await call(p);
      expect(res.status).toBe(404);
      expect((await res.json()).kind).toBe("Status");
    }
  });

  test("wrong method is 405, unknown Content-Type 415, malformed body 400, oversize body 413", async () => {
    expect((await call("/api/v1/namespaces/default/pods/x", { method: "POST", body: "{}" })).status).toBe(
      405,
    );
    expect((await call("/api", { method: "DELETE" })).status).toBe(405);
    const typed = await call("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "Content-Type": "text/csv" },
      body: "a,b",
    });
    expect(typed.status).toBe(415);
    expect((await typed.json()).reason).toBe("UnsupportedMediaType");
    const bad = await call("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{nope",
    });
    expect(bad.status).toBe(400);
    const big = await call("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data: { x: "a".repeat(3 * 1024 * 1024 + 10) } }),
    });
    expect(big.status).toBe(413);
  });

  test("a body without Content-Type is JSON, and YAML bodies work", async () => {
    const res = await call("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      // bytes, not a string: Deno (per fetch) labels a string body text/plain
      body: new TextEncoder().encode(
        JSON.stringify({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "plain" },
          data: { a: "1" },
        }),
      ),
    });
    expect(res.status).toBe(201);
    const yaml = await call("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { "Content-Type": "application/yaml" },
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  b: two\n",
    });
    expect(yaml.status).toBe(201);
    expect((await yaml.json()).data).toEqual({ b: "two" });
  });

  test("protobuf-preferring Accept gets protobuf for a described kind", async () => {
    const res = await call("/api/v1/namespaces/default", {
      headers: { Accept: "application/vnd.kubernetes.protobuf,application/json" },
    });
    expect(res.headers.get("Content-Type")).toBe("application/vnd.kubernetes.protobuf");
    const obj = decodeProtobufObject(new Uint8Array(await res.arrayBuffer())) as { kind: string };
    expect(obj.kind).toBe("Namespace");
  });
});

describe("discovery", () => {
  const aggregatedAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

  test("aggregated /api and /apis carry the exact content type and full resource entries", async () => {
    const core = await call("/api?timeout=32s", { headers: { Accept: aggregatedAccept } });
    expect(core.headers.get("Content-Type")).toBe(AGGREGATED_CONTENT_TYPE);
    const coreBody = await core.json();
    expect(coreBody.kind).toBe("APIGroupDiscoveryList");
    expect(coreBody.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual([""]);
    const pods = coreBody.items[0].versions[0].resources.find(
      (r: { resource: string }) => r.resource === "pods",
    );
    expect(pods).toMatchObject({
      responseKind: { group: "", version: "v1", kind: "Pod" },
      scope: "Namespaced",
      shortNames: ["po"],
      categories: ["all"],
    });
    expect(pods.verbs).toContain("watch");
    expect(
      pods.subresources.find((s: { subresource: string }) => s.subresource === "eviction").responseKind.kind,
    ).toBe("Eviction");

    const apis = await (await call("/apis", { headers: { Accept: aggregatedAccept } })).json();
    const apps = apis.items.find((i: { metadata: { name: string } }) => i.metadata.name === "apps");
    const deploy = apps.versions[0].resources.find((r: { resource: string }) => r.resource === "deployments");
    expect(deploy.shortNames).toEqual(["deploy"]);
    expect(deploy.subresources).toContainEqual({
      subresource: "scale",
      responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
      verbs: ["get", "patch", "update"],
    });
    expect(apis.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toContain(
      "metrics.k8s.io",
    );
  });

  test("legacy discovery documents", async () => {
    expect((await (await call("/api")).json()).versions).toEqual(["v1"]);
    const groups = await (await call("/apis")).json();
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups.find((g: { name: string }) => g.name === "apps").preferredVersion.groupVersion).toBe(
      "apps/v1",
    );
    const v1 = await (await call("/api/v1")).json();
    expect(v1.kind).toBe("APIResourceList");
    expect(v1.resources.find((r: { name: string }) => r.name === "pods/log")).toBeTruthy();
    expect(v1.resources.find((r: { name: string }) => r.name === "services").shortNames).toEqual(["svc"]);
    const apps = await (await call("/apis/apps/v1")).json();
    expect(apps.groupVersion).toBe("apps/v1");
    expect((await call("/apis/apps")).status).toBe(200);
  });
});

describe("access reviews", () => {
  test("can-i is always allowed for the one user; whoami names it", async () => {
    const res = await call("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb: "create", resource: "pods" } },
      }),
    });
    expect(res.status).toBe(201);
    const review = await res.json();
    expect(review.status.allowed).toBe(true);
    expect(review.spec.resourceAttributes.verb).toBe("create");
    const who = await (
      await call("/apis/authentication.k8s.io/v1/selfsubjectreviews", { method: "POST", body: "{}" })
    ).json();
    expect(who.status.userInfo.username).toBe("minik-admin");
    expect((await call("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).status).toBe(405);
  });
});

describe("openapi", () => {
  test("v3 index points at stable per-group-version documents with a fieldValidation PATCH per kind", async () => {
    const index = await (await call("/openapi/v3")).json();
    const url = index.paths["apis/apps/v1"].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]+$/);
    expect((await (await call("/openapi/v3")).json()).paths["apis/apps/v1"].serverRelativeURL).toBe(url);
    const res = await call(url);
    expect(res.headers.get("Cache-Control")).toContain("immutable");
    const doc = await res.json();
    const op = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
    expect(op["x-kubernetes-group-version-kind"]).toEqual({
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
    expect(op.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(Object.keys(op.requestBody.content)).not.toContain("application/strategic-merge-patch+json");
    const core = await (await call(index.paths["api/v1"].serverRelativeURL)).json();
    expect(core.paths["/api/v1/namespaces/{name}"].patch["x-kubernetes-group-version-kind"].kind).toBe(
      "Namespace",
    );
    expect(core.paths["/api/v1/namespaces/{namespace}/pods/{name}"]).toBeTruthy();
  });

  test("component schemas (the registry's) carry the GVK, and every $ref resolves inside its document", async () => {
    const index = await (await call("/openapi/v3")).json();
    for (const entry of Object.values(index.paths) as { serverRelativeURL: string }[]) {
      const doc = await (await call(entry.serverRelativeURL)).json();
      const schemas = doc.components.schemas;
      const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[\w.-]+/g) ?? [];
      for (const ref of refs) expect(schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined();
    }
    const apps = await (await call(index.paths["apis/apps/v1"].serverRelativeURL)).json();
    const deploy = apps.components.schemas["io.k8s.api.apps.v1.Deployment"];
    expect(deploy["x-kubernetes-group-version-kind"]).toContainEqual({
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
    expect(apps.components.schemas["io.k8s.api.apps.v1.DeploymentSpec"].properties.replicas.type).toBe(
      "integer",
    );
    expect(apps.components.schemas["io.k8s.api.core.v1.Service"]).toBeUndefined();
  });

  test("v2 is JSON from the same schemas, or gnostic protobuf when asked for as client-go does", async () => {
    const v2 = await call("/openapi/v2");
    expect(v2.status).toBe(200);
    expect((await v2.json()).definitions["io.k8s.api.core.v1.Pod"]).toBeDefined();
    const proto = await call("/openapi/v2", {
      headers: { Accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
    });
    expect(proto.status).toBe(200);
    expect(proto.headers.get("Content-Type")).toBe(
      "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
    );
    const fields = readFields(new Uint8Array(await proto.arrayBuffer()));
    expect(new TextDecoder().decode(fields.get(1)![0]!.value as Uint8Array)).toBe("2.0");
    expect(fields.get(8)).toHaveLength(1);
    expect(fields.get(9)).toHaveLength(1);
    expect((await call("/openapi/v2", { headers: { Accept: "text/plain" } })).status).toBe(406);
  });
});

describe("whole lists from the stored JSON", () => {
  const cm = (name: string, app: string) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels: { app } },
    data: { note: 'ü \u2028 "quoted"' },
  });

  const createThree = async () => {
    for (const [name, a] of [
      ["b", "x"],
      ["a", "y"],
      ["c", "x"],
    ] as const) {
      const res = await call("/api/v1/namespaces/default/configmaps", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(cm(name, a)),
      });
      expect(res.status).toBe(201);
    }
  };

  test("a whole list is the same body as the parsed list encoded, item for item", async () => {
    await createThree();
    const res = await call("/api/v1/namespaces/default/configmaps");
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    const body = JSON.parse(text);
    // what the parsed path would have written for the same state
    const listed = await store.list("configmaps", "default");
    expect(text).toBe(
      JSON.stringify({
        kind: "ConfigMapList",
        apiVersion: "v1",
        metadata: { resourceVersion: listed.resourceVersion },
        items: listed.items,
      }),
    );
    expect(body.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(["a", "b", "c"]);
    expect(body.items[0].data.note).toBe('ü \u2028 "quoted"');
  });

  test("selectors, pages, tables and YAML still go through the parsed list", async () => {
    await createThree();
    const names = async (path: string) =>
      ((await (await call(path)).json()).items as { metadata: { name: string } }[]).map(
        (i) => i.metadata.name,
      );
    expect(await names("/api/v1/namespaces/default/configmaps?labelSelector=app%3Dx")).toEqual(["b", "c"]);
    expect(await names("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Da")).toEqual([
      "a",
    ]);
    const page = await (await call("/api/v1/namespaces/default/configmaps?limit=2")).json();
    expect(page.items).toHaveLength(2);
    expect(page.metadata.continue).toBeTruthy();
    // resourceVersion=0 with a limit is the whole list, as upstream's watch cache answers
    expect(await names("/api/v1/namespaces/default/configmaps?limit=2&resourceVersion=0")).toEqual([
      "a",
      "b",
      "c",
    ]);
    const yaml = await call("/api/v1/namespaces/default/configmaps", {
      headers: { Accept: "application/yaml" },
    });
    expect(await yaml.text()).toContain("kind: ConfigMapList");
  });
});
