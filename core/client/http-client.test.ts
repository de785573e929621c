import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createApiServer } from "../api/app.ts";
import { ensureBootstrapPolicy } from "../auth/bootstrap-policy.ts";
import { nodeBearer } from "../auth/node-token.ts";
import { createInformers } from "../controllers/informer.ts";
import { isApiError } from "../errors.ts";
import type { KubeObject, WatchEvent } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createHttpClient } from "./http-client.ts";

const ADMIN = "admin-token";
const NODE_SECRET = "join-secret";
let store: Store;
let registry: Registry;
let app: ReturnType<typeof createApiServer>;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  registry = createRegistry(store);
  await registry.bootstrap();
  await ensureBootstrapPolicy(registry);
  app = createApiServer({ client: registry, auth: { token: ADMIN, nodeSecret: NODE_SECRET } });
});
afterEach(async () => {
  await store.close();
});

/** The client's requests go straight to the in-process app: the whole HTTP path but no socket. */
const clientWith = (bearer: string) =>
  createHttpClient({
    server: "https://minik.test:7443",
    bearer,
    fetch: (input, init) => Promise.resolve(app.request(input, init)),
  });

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data,
});

describe("HTTP client", () => {
  test("every verb does what the registry does", async () => {
    const client = clientWith(ADMIN);
    const created = await client.create("configmaps", configMap("a", { k: "1" }));
    expect(created.metadata.uid).toBeTruthy();
    expect((await client.get("configmaps", "default", "a")).metadata.uid).toBe(created.metadata.uid);
    expect(await client.tryGet("configmaps", "default", "missing")).toBeUndefined();
    const updated = await client.update("configmaps", { ...created, data: { k: "2" } } as KubeObject);
    expect((updated as KubeObject & { data: Record<string, string> }).data.k).toBe("2");
    const patched = await client.patch("configmaps", "default", "a", "merge", { data: { j: "3" } });
    expect((patched as KubeObject & { data: Record<string, string> }).data).toEqual({ k: "2", j: "3" });
    const list = await client.list("configmaps", { namespace: "default" });
    expect(list.items.map((i) => [i.kind, i.metadata.name])).toContainEqual(["ConfigMap", "a"]);
    expect(Number(list.resourceVersion)).toBeGreaterThan(0);
    await client.delete("configmaps", "default", "a");
    expect(await registry.tryGet("configmaps", "default", "a")).toBeUndefined();
    // a stale write is the API's Conflict, as ApiError
    const stale = await client
      .update("configmaps", { ...created, metadata: { ...created.metadata, name: "a" } })
      .catch((e) => e);
    expect(isApiError(stale, "NotFound") || isApiError(stale, "Conflict")).toBe(true);
  });

  test("watch streams events from a revision; an informer stays current over it", async () => {
    const client = clientWith(ADMIN);
    const events: WatchEvent[] = [];
    const { resourceVersion } = await client.list("configmaps");
    const stop = await client.watch("configmaps", { resourceVersion }, (e) => events.push(e));
    await registry.create("configmaps", configMap("w"));
    await registry.delete("configmaps", "default", "w");
    await waitFor(() => events.length >= 2);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED w", "DELETED w"]);
    stop();

    const informers = createInformers(client, { onError: () => {} });
    const cms = informers.for("configmaps");
    await informers.start();
    await registry.create("configmaps", configMap("seen"));
    await waitFor(() => !!cms.get("default", "seen"));
    informers.stop();
  });

  test("a node token is a node: what a kubelet needs, not admin; a wrong one is 401", async () => {
    const node = clientWith(nodeBearer("worker-1", NODE_SECRET));
    const created = await node.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "worker-1" },
      spec: {},
    });
    expect(created.metadata.name).toBe("worker-1");
    await node.list("pods");
    const forbidden = await node.create("configmaps", configMap("nope")).catch((e) => e);
    expect(isApiError(forbidden, "Forbidden")).toBe(true);
    expect(forbidden.message).toContain("system:node:worker-1");

    const wrong = await clientWith(nodeBearer("worker-1", "guess"))
      .list("pods")
      .catch((e) => e);
    expect(isApiError(wrong, "Unauthorized")).toBe(true);
    expect(wrong.message).toContain("node token");
  });
});
