import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import type { Client } from "../seams/client.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createInformers, type InformerEvent } from "./informer.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let store: Store;
let registry: Registry;
afterEach(async () => {
  await store?.close();
});

async function setup(): Promise<void> {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store);
  await registry.bootstrap();
}

const cm = (name: string, data: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name },
  data,
});

describe("informer", () => {
  test("lists, then follows changes; handlers see the old object on MODIFIED", async () => {
    await setup();
    await registry.create("configmaps", cm("a"));
    const informers = createInformers(registry);
    const cache = informers.for("configmaps");
    const events: InformerEvent[] = [];
    cache.onEvent((e) => events.push(e));
    await informers.start();
    expect(cache.get("default", "a")).toBeDefined();
    const b = await registry.create("configmaps", cm("b"));
    await registry.update("configmaps", { ...b, data: { x: "1" } });
    await registry.delete("configmaps", "default", "a");
    expect(cache.list("default").map((o) => o.metadata.name)).toEqual(["b"]);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual([
      "ADDED a",
      "ADDED b",
      "MODIFIED b",
      "DELETED a",
    ]);
    expect(events[2]!.old?.data).toEqual({});
    informers.stop();
  });

  test("a watch refused with 410 Expired makes the informer list again", async () => {
    await setup();
    let refusals = 0;
    let lists = 0;
    const flaky: Client = {
      ...registry,
      list: (resource, options) => {
        lists++;
        return registry.list(resource, options);
      },
      watch: async (resource, options, onEvent) => {
        if (refusals++ === 0) throw new ApiError("Expired", "too old resource version");
        return registry.watch(resource, options, onEvent);
      },
    };
    const informers = createInformers(flaky, { onError: () => {} });
    const cache = informers.for("configmaps");
    await informers.start();
    expect(lists).toBe(2);
    await registry.create("configmaps", cm("late"));
    await waitFor(() => cache.get("default", "late"), { what: "event after relist" });
    informers.stop();
  });

  test("a write result recorded with observe is not undone by an older event, nor a deletion by a late result", async () => {
    await setup();
    const informers = createInformers(registry);
    const cache = informers.for("configmaps");
    await informers.start();
    const a = await registry.create("configmaps", cm("a"));
    const newer = await registry.update("configmaps", { ...a, data: { v: "2" } });
    cache.observe(a); // stale: ignored
    expect(cache.get("default", "a")?.data).toEqual({ v: "2" });
    await registry.delete("configmaps", "default", "a");
    cache.observe(newer); // a write result arriving after the DELETED event
    expect(cache.get("default", "a")).toBeUndefined();
    informers.stop();
  });

  test("a name reused with a new uid arrives as DELETED then ADDED", async () => {
    await setup();
    const informers = createInformers(registry);
    const cache = informers.for("configmaps");
    const events: string[] = [];
    cache.onEvent((e) => events.push(`${e.type} ${e.object.metadata.uid}`));
    await informers.start();
    const a = await registry.create<KubeObject>("configmaps", cm("a"));
    const reborn = {
      ...a,
      metadata: {
        ...a.metadata,
        uid: "new-uid",
        resourceVersion: String(Number(a.metadata.resourceVersion) + 100),
      },
    };
    cache.observe(reborn);
    expect(events).toEqual([`ADDED ${a.metadata.uid}`, `DELETED ${a.metadata.uid}`, "ADDED new-uid"]);
    informers.stop();
  });
});
