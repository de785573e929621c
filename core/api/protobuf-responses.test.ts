import { describe, expect, test } from "bun:test";
import { decodeProtobufObject } from "./protobuf/decode.ts";
import { encodeProtobufObject } from "./protobuf/encode.ts";
import { readFields } from "./protobuf/wire.ts";
import { useApiServer } from "./testing/api-server.ts";

/** Protobuf answers over HTTP, as client-go's typed clients ask for them. */
const api = useApiServer();
const PB = "application/vnd.kubernetes.protobuf";
const KUBECTL_ACCEPT = `${PB},application/json`;
const CMS = "/api/v1/namespaces/default/configmaps";

const configMap = (name: string, data: Record<string, string> = { a: "1" }) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data,
});

async function decoded(res: Response): Promise<any> {
  expect(res.headers.get("Content-Type")).toBe(PB);
  return decodeProtobufObject(new Uint8Array(await res.arrayBuffer()));
}

describe("protobuf responses", () => {
  test("create with a protobuf body, get, update, patch and delete all answer protobuf", async () => {
    const created = await api.call(CMS, {
      method: "POST",
      headers: { "Content-Type": PB, Accept: KUBECTL_ACCEPT },
      body: encodeProtobufObject(configMap("c")),
    });
    expect(created.status).toBe(201);
    const obj = await decoded(created);
    expect(obj).toMatchObject({ kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1" } });
    expect(typeof obj.metadata.uid).toBe("string");
    expect(obj.metadata.creationTimestamp).toMatch(/Z$/);

    const got = await decoded(await api.call(`${CMS}/c`, { headers: { Accept: PB } }));
    // what protobuf carries is exactly what JSON carries
    const asJson = await (await api.call(`${CMS}/c`)).json();
    expect(got).toEqual(asJson);

    const put = await api.call(`${CMS}/c`, {
      method: "PUT",
      headers: { Accept: PB },
      body: JSON.stringify({ ...asJson, data: { a: "2" } }),
    });
    expect((await decoded(put)).data).toEqual({ a: "2" });

    const patched = await api.call(`${CMS}/c`, {
      method: "PATCH",
      headers: { Accept: KUBECTL_ACCEPT, "Content-Type": "application/merge-patch+json" },
      body: JSON.stringify({ data: { b: "3" } }),
    });
    expect((await decoded(patched)).data).toEqual({ a: "2", b: "3" });

    const deleted = await decoded(await api.call(`${CMS}/c`, { method: "DELETE", headers: { Accept: PB } }));
    expect(deleted).toMatchObject({ kind: "Status", status: "Success", details: { name: "c" } });
  });

  test("lists are XxxList messages with ListMeta, paging included", async () => {
    for (const name of ["a", "b", "c"]) await api.client.create("configmaps", configMap(name));
    const page = await decoded(await api.call(`${CMS}?limit=2`, { headers: { Accept: KUBECTL_ACCEPT } }));
    expect(page.kind).toBe("ConfigMapList");
    expect(page.items.map((i: any) => i.metadata.name)).toEqual(["a", "b"]);
    expect(typeof page.metadata.continue).toBe("string");
    expect(page.metadata.remainingItemCount).toBe(1);
    const deployments = await decoded(
      await api.call("/apis/apps/v1/namespaces/default/deployments", { headers: { Accept: PB } }),
    );
    expect(deployments).toMatchObject({ kind: "DeploymentList", apiVersion: "apps/v1" });
  });

  test("a watch in protobuf: length-prefixed WatchEvent frames, objects enveloped", async () => {
    // A client that also takes JSON is watched in JSON (a later object with a field the
    // descriptions lack would end a protobuf stream); protobuf only when asked for nothing else.
    const either = await api.call(`${CMS}?watch=true&resourceVersion=0&timeoutSeconds=1`, {
      headers: { Accept: KUBECTL_ACCEPT },
    });
    expect(either.headers.get("Content-Type")).toBe("application/json");
    await either.body?.cancel();
    const res = await api.call(`${CMS}?watch=true&resourceVersion=0`, { headers: { Accept: PB } });
    expect(res.headers.get("Content-Type")).toBe(`${PB};stream=watch`);
    const reader = res.body!.getReader();
    let buffered = new Uint8Array();
    const next = async (): Promise<{ type: string; object: any }> => {
      for (;;) {
        if (buffered.byteLength >= 4) {
          const length = new DataView(buffered.buffer, buffered.byteOffset).getUint32(0);
          if (buffered.byteLength >= 4 + length) {
            const event = readFields(buffered.subarray(4, 4 + length));
            buffered = buffered.slice(4 + length);
            const raw = readFields(event.get(2)![0]!.value as Uint8Array).get(1)![0]!.value as Uint8Array;
            return {
              type: new TextDecoder().decode(event.get(1)![0]!.value as Uint8Array),
              object: decodeProtobufObject(raw),
            };
          }
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the watch ended");
        buffered = new Uint8Array([...buffered, ...value]);
      }
    };
    await api.client.create("configmaps", configMap("w"));
    const added = await next();
    expect(added.type).toBe("ADDED");
    expect(added.object).toMatchObject({ kind: "ConfigMap", metadata: { name: "w" } });
    await api.client.delete("configmaps", "default", "w", {});
    const gone = await next();
    expect(gone.type).toBe("DELETED");
    await reader.cancel();
  });

  test("errors are a protobuf Status when only protobuf is accepted, JSON otherwise", async () => {
    const missing = await api.call(`${CMS}/nope`, { headers: { Accept: PB } });
    expect(missing.status).toBe(404);
    expect(await decoded(missing)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    const withJson = await api.call(`${CMS}/nope`, { headers: { Accept: KUBECTL_ACCEPT } });
    expect(withJson.headers.get("Content-Type")).toBe("application/json");
    expect((await withJson.json()).reason).toBe("NotFound");
  });

  test("a kind without a description: JSON when accepted, else 406 before anything is written", async () => {
    const sts = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    };
    const path = "/apis/apps/v1/namespaces/default/statefulsets";
    const refused = await api.call(path, {
      method: "POST",
      headers: { Accept: PB },
      body: JSON.stringify(sts),
    });
    expect(refused.status).toBe(406);
    expect((await decoded(refused)).message).toContain("StatefulSet");
    expect(await api.client.tryGet("statefulsets.apps", "default", "db")).toBeUndefined();
    const json = await api.call(path, {
      method: "POST",
      headers: { Accept: KUBECTL_ACCEPT },
      body: JSON.stringify(sts),
    });
    expect(json.status).toBe(201);
    expect(json.headers.get("Content-Type")).toBe("application/json");
    // PartialObjectMetadata is one message for every kind, described or not
    const meta = await api.call(`${path}/db`, {
      headers: { Accept: `${PB};as=PartialObjectMetadata;g=meta.k8s.io;v=v1` },
    });
    expect(await decoded(meta)).toMatchObject({
      apiVersion: "meta.k8s.io/v1",
      kind: "PartialObjectMetadata",
      metadata: { name: "db", namespace: "default" },
    });
  });

  test("versions served by conversion answer JSON beside protobuf, 406 for protobuf alone", async () => {
    const hpa = await api.call("/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", {
      headers: { Accept: KUBECTL_ACCEPT },
    });
    expect(hpa.headers.get("Content-Type")).toBe("application/json");
    expect((await hpa.json()).apiVersion).toBe("autoscaling/v1");
    const events = await api.call("/apis/events.k8s.io/v1/namespaces/default/events", {
      headers: { Accept: PB },
    });
    expect(events.status).toBe(406);
    expect((await decoded(events)).message).toContain("events.k8s.io/v1");
  });

  test("an object with a field the description lacks is answered in JSON, or 406, never trimmed", async () => {
    // written below the registry, as a newer minik or another API server sharing the store might
    await api.store.create("configmaps", {
      ...configMap("future"),
      metadata: { name: "future", namespace: "default", uid: "u-1" },
      binaryData: undefined,
      newField: { kept: true },
    } as never);
    const json = await api.call(`${CMS}/future`, { headers: { Accept: KUBECTL_ACCEPT } });
    expect(json.headers.get("Content-Type")).toBe("application/json");
    expect((await json.json()).newField).toEqual({ kept: true });
    const refused = await api.call(`${CMS}/future`, { headers: { Accept: PB } });
    expect(refused.status).toBe(406);
    expect((await decoded(refused)).message).toBe(
      "ConfigMap (v1) cannot be encoded in protobuf by minik (core.v1.ConfigMap has no field newField): accept application/json",
    );
  });
});
