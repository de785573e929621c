import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { findByPlural } from "../resources.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createApiServer } from "./app.ts";
import { watchResponse } from "./watch.ts";
import { parseTimeoutSeconds, watchLifetimeMs } from "./watch-limits.ts";

let store: Store;
let client: Registry;
beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  client = createRegistry(store);
  await client.bootstrap();
});
afterEach(async () => {
  await store.close();
});

const info = findByPlural("", "configmaps")!;
const configMap = (name: string, bytes: number) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { a: "z".repeat(bytes) },
});

describe("timeoutSeconds", () => {
  test("anything but a whole number of seconds is a 400 Status", async () => {
    const app = createApiServer({ client, auth: { token: "t" } });
    for (const bad of ["abc", "-1", "1.5", "1e3", "0x10", "99999999999"]) {
      const res = await app.request(`/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=${bad}`, {
        headers: { Authorization: "Bearer t" },
      });
      expect(res.status).toBe(400);
      expect((await res.json()).kind).toBe("Status");
    }
    expect(parseTimeoutSeconds("30")).toBe(30);
    expect(parseTimeoutSeconds(null)).toBeUndefined();
  });

  test("every watch has a jittered server-side maximum lifetime", () => {
    expect(watchLifetimeMs(undefined, 1800, () => 0)).toBe(1_800_000);
    expect(watchLifetimeMs(undefined, 1800, () => 0.5)).toBe(2_700_000);
    expect(watchLifetimeMs(0, 1800, () => 0.5)).toBe(2_700_000);
    expect(watchLifetimeMs(60, 1800, () => 0.5)).toBe(60_000);
    // a client's timeout beyond the maximum is cut to it
    expect(watchLifetimeMs(10 ** 9, 1800, () => 0.25)).toBe(2_250_000);
  });

  test("a watch without timeoutSeconds ends at the maximum lifetime", async () => {
    const res = watchResponse(client, {
      info,
      resource: "configmaps",
      options: { namespace: "default" },
      bookmarks: false,
      minLifetimeSeconds: 0.05,
    });
    const started = performance.now();
    await res.text();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(2_000);
  });
});

describe("a watcher that stops reading", () => {
  test("is closed once its unsent bytes pass the bound; one that reads gets everything", async () => {
    const rv = await store.currentResourceVersion();
    const paused = watchResponse(client, {
      info,
      resource: "configmaps",
      options: { namespace: "default" },
      resourceVersion: rv,
      bookmarks: false,
      bufferBytes: 64 * 1024,
    });
    const reading = watchResponse(client, {
      info,
      resource: "configmaps",
      options: { namespace: "default" },
      resourceVersion: rv,
      bookmarks: false,
      timeoutSeconds: 60,
    });
    const reader = reading.body!.getReader();
    let received = "";
    const readAll = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += new TextDecoder().decode(value);
        if ((received.match(/"ADDED"/g) ?? []).length >= 50) return;
      }
    })();
    for (let i = 0; i < 50; i++) await client.create("configmaps", configMap(`c${i}`, 8 * 1024));
    await readAll;
    await reader.cancel();
    expect((received.match(/"ADDED"/g) ?? []).length).toBe(50);
    // the paused watcher was cut off: its stream errors once what it had taken is read
    const pausedReader = paused.body!.getReader();
    let taken = 0;
    const outcome = await (async () => {
      for (;;) {
        const { done, value } = await pausedReader.read();
        if (done) return "ended";
        taken += value.byteLength;
      }
    })().catch((e: Error) => e.message);
    expect(outcome).toBe("watch closed: the client fell behind");
    expect(taken).toBeLessThan(64 * 1024 + 16 * 1024);
  });
});
