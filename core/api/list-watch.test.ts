import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { waitFor } from "../../test/support/env.ts";
import { decodeProtobufObject } from "./protobuf/decode.ts";
import { useApiServer } from "./testing/api-server.ts";

/** limit/continue, PartialObjectMetadata, YAML, protobuf refusal and WatchList, over HTTP. */
const api = useApiServer({ changeLogLimit: 4 });

function call(path: string, headers: Record<string, string> = {}) {
  return api.call(path, { headers });
}
const CMS = "/api/v1/namespaces/default/configmaps";
const POM = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const POML = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

async function configMaps(names: string[], labels: Record<string, string> = {}) {
  for (const name of names)
    await api.client.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: "default", labels },
      data: { name },
    });
}

function token(t: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(t, "base64url").toString());
}

describe("limit and continue", () => {
  test("pages through a consistent snapshot with remainingItemCount", async () => {
    await configMaps(["a", "b", "c", "d", "e"]);
    const p1 = await (await call(`${CMS}?limit=2`)).json();
    expect(p1.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(["a", "b"]);
    expect(p1.metadata.remainingItemCount).toBe(3);
    expect(token(p1.metadata.continue)).toEqual({
      v: "meta.k8s.io/v1",
      rv: Number(p1.metadata.resourceVersion),
      start: "b\u0000",
    });
    // Changes after the first page are not seen by the later pages.
    await api.client.delete("configmaps", "default", "c");
    await configMaps(["bb"]);
    const p2 = await (await call(`${CMS}?limit=2&continue=${p1.metadata.continue}`)).json();
    expect(p2.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(["c", "d"]);
    expect(p2.metadata.resourceVersion).toBe(p1.metadata.resourceVersion);
    const p3 = await (await call(`${CMS}?limit=2&continue=${p2.metadata.continue}`)).json();
    expect(p3.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(["e"]);
    expect(p3.metadata.continue).toBeUndefined();
    expect(p3.metadata.remainingItemCount).toBeUndefined();
  });

  test("with a selector there is no remainingItemCount; all namespaces keep their order", async () => {
    await configMaps(["a", "b", "c"], { x: "1" });
    const page = await (await call(`/api/v1/configmaps?limit=1&labelSelector=x%3D1`)).json();
    expect(page.items.length).toBe(1);
    expect(page.metadata.remainingItemCount).toBeUndefined();
    expect(token(page.metadata.continue).start).toBe("default/a\u0000");
    const all = await (await call(`/api/v1/configmaps?limit=500`)).json();
    expect(all.metadata.continue).toBeUndefined();
    // resourceVersion=N: a state not older than N, so the current one, paged
    await api.client.delete("configmaps", "default", "c");
    const notOlder = await (
      await call(`${CMS}?limit=1&resourceVersion=${page.metadata.resourceVersion}`)
    ).json();
    expect(notOlder.items.length).toBe(1);
    expect(notOlder.metadata.continue).toBeTruthy();
    // resourceVersion=0 is "any state": the whole list, as upstream's watch cache answers.
    const any = await (await call(`${CMS}?limit=1&resourceVersion=0`)).json();
    expect(any.items.length).toBe(2);
  });

  test("a selector that matches little still fills each page, reading on at the same revision", async () => {
    const names = Array.from({ length: 30 }, (_, i) => `cm-${String(i).padStart(2, "0")}`);
    await configMaps(names);
    for (const n of ["cm-03", "cm-17", "cm-29"]) {
      const cm = await api.client.get("configmaps", "default", n);
      await api.client.update("configmaps", { ...cm, metadata: { ...cm.metadata, labels: { pick: "y" } } });
    }
    const seen: string[] = [];
    let token = "";
    for (let page = 0; page < 5; page++) {
      const res = await (
        await call(`${CMS}?limit=2&labelSelector=pick%3Dy${token ? `&continue=${token}` : ""}`)
      ).json();
      seen.push(...res.items.map((o: { metadata: { name: string } }) => o.metadata.name));
      token = res.metadata.continue ?? "";
      if (!token) break;
    }
    expect(seen).toEqual(["cm-03", "cm-17", "cm-29"]);
    expect(token).toBe("");
  });

  test("a malformed token is 400, a compacted one 410 Expired", async () => {
    await configMaps(["a", "b", "c"]);
    const bad = await call(`${CMS}?limit=1&continue=not-json`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/^invalid continue token: continue key is not valid/);
    const wrongVersion = Buffer.from(JSON.stringify({ v: "x", rv: 1, start: "a" })).toString("base64url");
    expect((await (await call(`${CMS}?continue=${wrongVersion}`)).json()).message).toContain(
      "server does not recognize this encoded version",
    );
    const outside = Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: 1, start: "../x" })).toString(
      "base64url",
    );
    expect((await call(`${CMS}?continue=${outside}`)).status).toBe(400);
    const p1 = await (await call(`${CMS}?limit=1`)).json();
    const withRv = await call(`${CMS}?limit=1&continue=${p1.metadata.continue}&resourceVersion=5`);
    expect(withRv.status).toBe(400);
    await configMaps(["d", "e", "f", "g", "h", "i"]);
    await api.store.compact();
    const old = await call(`${CMS}?limit=1&continue=${p1.metadata.continue}`);
    expect(old.status).toBe(410);
    const status = await old.json();
    expect(status.reason).toBe("Expired");
    expect(status.message).toContain("continue parameter is too old");
  });

  test("Table pages carry the token too", async () => {
    await configMaps(["a", "b", "c"]);
    const res = await call(`${CMS}?limit=2`, { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" });
    const table = await res.json();
    expect(table.kind).toBe("Table");
    expect(table.rows.length).toBe(2);
    expect(table.metadata.continue).toBeTruthy();
    expect(table.metadata.remainingItemCount).toBe(1);
  });
});

describe("representations", () => {
  test("PartialObjectMetadata for an object, a list and a watch", async () => {
    await configMaps(["a"], { app: "x" });
    const one = await (await call(`${CMS}/a`, { Accept: POM })).json();
    expect(one).toEqual({
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: expect.objectContaining({ name: "a", labels: { app: "x" } }),
    });
    expect(one.data).toBeUndefined();
    const beta = await (
      await call(`${CMS}/a`, { Accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1" })
    ).json();
    expect(beta.apiVersion).toBe("meta.k8s.io/v1beta1");
    // client-go's metadata client asks for protobuf first: the meta.k8s.io/v1 messages
    const proto = await call(CMS, {
      Accept: `application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,${POML}`,
    });
    expect(proto.headers.get("Content-Type")).toBe("application/vnd.kubernetes.protobuf");
    const list = decodeProtobufObject(new Uint8Array(await proto.arrayBuffer())) as any;
    expect(list.apiVersion).toBe("meta.k8s.io/v1");
    expect(list.kind).toBe("PartialObjectMetadataList");
    // protobuf list items carry no type meta; the metadata and nothing else
    expect(Object.keys(list.items[0])).toEqual(["metadata"]);
    expect(list.items[0].metadata.name).toBeDefined();
    const wrong = await call(CMS, { Accept: POM });
    expect(wrong.status).toBe(406);
    // refused before the write, not after it
    const post = await api.call(CMS, {
      method: "POST",
      headers: { Accept: POML },
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late" } }),
    });
    expect(post.status).toBe(406);
    expect(await api.client.tryGet("configmaps", "default", "late")).toBeUndefined();
    const res = await call(`${CMS}?watch=1`, { Accept: POM });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("PartialObjectMetadata"))
      text += new TextDecoder().decode((await reader.read()).value);
    const event = JSON.parse(text.trim().split("\n")[0]!);
    expect(event.type).toBe("ADDED");
    expect(event.object.kind).toBe("PartialObjectMetadata");
    expect(event.object.data).toBeUndefined();
    await reader.cancel();
  });

  test("YAML when asked; protobuf for a kind without a description is 406 alone, JSON beside JSON", async () => {
    await configMaps(["a"]);
    const yaml = await call(`${CMS}/a`, { Accept: "application/yaml" });
    expect(yaml.headers.get("Content-Type")).toBe("application/yaml");
    const text = await yaml.text();
    expect(text.startsWith("apiVersion: v1\n")).toBe(true);
    expect(parse(text).data).toEqual({ name: "a" });
    const list = parse(await (await call(CMS, { Accept: "application/yaml" })).text());
    expect(list.kind).toBe("ConfigMapList");
    // a kind without a protobuf description: 406 alone, JSON when JSON is accepted beside it
    const proto = await call("/apis/apps/v1/namespaces/default/statefulsets", {
      Accept: "application/vnd.kubernetes.protobuf",
    });
    expect(proto.status).toBe(406);
    const both = await call("/apis/apps/v1/namespaces/default/statefulsets", {
      Accept: "application/vnd.kubernetes.protobuf,application/json",
    });
    expect(both.headers.get("Content-Type")).toBe("application/json");
    expect((await both.json()).kind).toBe("StatefulSetList");
  });
});

describe("WatchList", () => {
  test("initial ADDED events, then the initial-events-end bookmark, then changes", async () => {
    await configMaps(["a", "b"]);
    const res = await call(
      `${CMS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const events: { type: string; object: { metadata: Record<string, unknown> } }[] = [];
    let buffered = "";
    const readUntil = async (n: number) => {
      while (events.length < n) {
        buffered += new TextDecoder().decode((await reader.read()).value);
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const l of lines) if (l.trim()) events.push(JSON.parse(l));
      }
    };
    await readUntil(3);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "ADDED", "BOOKMARK"]);
    expect(events[2]!.object.metadata.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    expect(events[2]!.object.metadata.resourceVersion).toBe(await api.store.currentResourceVersion());
    await configMaps(["c"]);
    await readUntil(4);
    expect(events[3]!.type).toBe("ADDED");
    await reader.cancel();
  });

  test("sendInitialEvents=false starts from the newest state without ADDED events", async () => {
    await configMaps(["a"]);
    const res = await call(`${CMS}?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan`);
    const reader = res.body!.getReader();
    let text = "";
    void (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read())
        text += new TextDecoder().decode(r.value);
    })();
    // the watch starts at some point after the response: write until a change comes through
    let n = 0;
    await waitFor(
      async () => {
        await configMaps([`b${n++}`]);
        return text.includes("ADDED");
      },
      { what: "a change to arrive" },
    );
    const names = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).object.metadata.name);
    expect(names).not.toContain("a");
    await reader.cancel();
  });

  test("parameter combinations are checked as upstream checks them", async () => {
    const bad = async (query: string, field: string) => {
      const res = await call(`${CMS}?${query}`);
      expect(res.status).toBe(422);
      const s = await res.json();
      expect(s.message).toContain(`ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden`);
    };
    await bad("watch=1&sendInitialEvents=true&allowWatchBookmarks=true", "resourceVersionMatch");
    await bad("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "allowWatchBookmarks");
    await bad("watch=1&resourceVersionMatch=NotOlderThan", "resourceVersionMatch");
    await bad("sendInitialEvents=true", "sendInitialEvents");
    await bad("resourceVersionMatch=Exact", "resourceVersionMatch");
  });
});
