import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { KubeObject } from "../object.ts";
import { MAX_OBJECT_BYTES } from "../registry/object-size.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";

let store: Store;
let client: Registry;
let app: ReturnType<typeof createApiServer>;
beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  client = createRegistry(store);
  await client.bootstrap();
  app = createApiServer({ client, auth: { token: "t" } });
});
afterEach(async () => {
  await store.close();
});

const CMS = "/api/v1/namespaces/default/configmaps";
const DEPLOYS = "/apis/apps/v1/namespaces/default/deployments";
const post = (path: string, body: string, type = "application/json") =>
  app.request(path, { method: "POST", headers: { Authorization: "Bearer t", "Content-Type": type }, body });

/** The answer is the 4xx `code` as a Status, and `name` was not stored. */
async function refused(res: Response, code: number, name?: string, resource = "configmaps"): Promise<string> {
  const body = await res.json();
  expect({ status: res.status, kind: body.kind }).toEqual({ status: code, kind: "Status" });
  if (name) expect(await client.tryGet(resource, "default", name)).toBeUndefined();
  return body.message as string;
}

const cm = (fields: string) => `{"apiVersion":"v1","kind":"ConfigMap",${fields}}`;
const deployment = (name: string, replicas: unknown) =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: "x" } },
      template: { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "a", image: "nginx" }] } },
    },
  });

describe("the six 5xx causes the probe found are 4xx now", () => {
  test("metadata that is not an object", async () => {
    for (const m of ['"x"', "42", "[1]", "true"]) await refused(await post(CMS, cm(`"metadata":${m}`)), 400);
  });

  test("non-string finalizers and an array as name", async () => {
    await refused(await post(CMS, cm(`"metadata":{"name":"f","finalizers":[1,{}]}`)), 400, "f");
    await refused(await post(CMS, cm(`"metadata":{"name":"g","finalizers":[0.5]}`)), 400, "g");
    await refused(await post(CMS, cm(`"metadata":{"name":["x"]}`)), 400, "x");
    await refused(await post(CMS, cm(`"metadata":{"name":7}`)), 400, "7");
  });

  test("very deep nesting", async () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    await refused(await post(CMS, cm(`"metadata":{"name":"d"},"data":{"a":${deep}}`)), 400, "d");
    const yamlDeep = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {a: ${"[".repeat(5_000)}${"]".repeat(5_000)}}\n`;
    await refused(await post(CMS, yamlDeep, "application/yaml"), 400, "y");
  });

  test("an unknown field with a non-Latin-1 name: created once, with an ASCII Warning, no 500", async () => {
    const res = await post(CMS, cm(`"metadata":{"name":"u"},"ünknown名":1`));
    expect(res.status).toBe(201);
    const warning = res.headers.get("Warning")!;
    expect(warning).toContain('unknown field \\"\\u00fcnknown\\u540d\\"');
    expect(/^[\x20-\x7e]*$/.test(warning)).toBe(true);
    await refused(await post(CMS, cm(`"metadata":{"name":"u"},"ünknown名":1`)), 409);
  });
});

describe("admission limits", () => {
  test("replicas and other counts are int32: 2^31 and 1e308 are refused, 2^31-1 is not a decode error", async () => {
    await refused(await post(DEPLOYS, deployment("big", 2 ** 31)), 400, "big", "deployments.apps");
    const msg = await refused(
      await post(DEPLOYS, deployment("huge", 1e308)),
      400,
      "huge",
      "deployments.apps",
    );
    expect(msg).toContain("int32");
    const max = await post(DEPLOYS, deployment("max", 2 ** 31 - 1));
    expect(max.status).toBe(201);
    const port = cm(`"metadata":{"name":"p"}`)
      .replace("ConfigMap", "Service")
      .replace('"metadata"', '"spec":{"ports":[{"port":4294967297}]},"metadata"');
    await refused(await post("/api/v1/namespaces/default/services", port), 400, "p", "services");
  });

  test("YAML: one 1 MB scalar aliased 99 times is refused by its expanded size, and nothing is stored", async () => {
    const big = "x".repeat(1_000_000);
    const aliases = Array.from({ length: 98 }, (_, i) => `  k${i}: *a`).join("\n");
    const body = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a: &a ${big}\n${aliases}\n`;
    const msg = await refused(await post(CMS, body, "application/yaml"), 413, "bomb");
    expect(msg).toContain("YAML aliases");
    // a few small aliases are fine
    const small = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\ndata:\n  a: &a hello\n  b: *a\n";
    expect((await post(CMS, small, "application/yaml")).status).toBe(201);
    expect(
      (await client.get<KubeObject & { data: Record<string, string> }>("configmaps", "default", "ok")).data.b,
    ).toBe("hello");
  });

  test("an object over 1.5 MiB is 413 naming its size, on create and on update", async () => {
    const large = "y".repeat(MAX_OBJECT_BYTES);
    const msg = await refused(
      await post(CMS, cm(`"metadata":{"name":"large"},"data":{"a":"${large}"}`)),
      413,
      "large",
    );
    expect(msg).toMatch(/ConfigMap "large" is too large to store: \d+ bytes, the limit is 1572864 bytes/);
    expect((await post(CMS, cm(`"metadata":{"name":"grow"},"data":{"a":"small"}`))).status).toBe(201);
    const put = await app.request(`${CMS}/grow`, {
      method: "PUT",
      headers: { Authorization: "Bearer t", "Content-Type": "application/json" },
      body: cm(`"metadata":{"name":"grow"},"data":{"a":"${large}"}`),
    });
    await refused(put, 413);
    expect(
      (await client.get<KubeObject & { data: Record<string, string> }>("configmaps", "default", "grow")).data
        .a,
    ).toBe("small");
  });

  test("ConfigMap data values must be strings (422), binaryData base64", async () => {
    for (const [i, data] of ['{"a":1}', '{"a":true}', '{"a":{"b":"c"}}', '{"a":null}'].entries()) {
      const res = await post(CMS, cm(`"metadata":{"name":"t${i}"},"data":${data}`));
      expect([400, 422]).toContain(res.status);
      await refused(res, res.status, `t${i}`);
    }
    await refused(await post(CMS, cm(`"metadata":{"name":"b"},"binaryData":{"a":"not base64!"}`)), 422, "b");
    // in-process writers (no fieldValidation) are held to the same rule
    await expect(
      client.create("configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "n" },
        data: { a: 1 },
      }),
    ).rejects.toMatchObject({ reason: "Invalid" });
  });
});
