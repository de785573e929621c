import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import type { Controller } from "../controllers/controller.ts";
import { createInformers, type Informers } from "../controllers/informer.ts";
import { createEventRecorder, EVENT_BATCH_DELAY_MS } from "../events.ts";
import { systemClock } from "../loop/clock.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import type { ProxyServicePort, ProxyWarning, ServiceProxy } from "../seams/service-proxy.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createServiceAllocator } from "./service-allocator.ts";
import { createServiceProxyController } from "./service-proxy-controller.ts";

const testOnBun = "Bun" in globalThis ? test : test.skip;

let store: Store;
let registry: Registry;
let informers: Informers;
let controller: Controller;
let synced: ProxyServicePort[][];

// Records what the data path is asked to serve; the nft implementation has its own root tests.
let warnings: ProxyWarning[] = [];
const recordingProxy: ServiceProxy = {
  async sync(ports) {
    synced.push(ports);
    return { warnings };
  },
};
const latest = () => synced[synced.length - 1];
const eventsNow = async () => (await registry.list("events", { namespace: "default" })).items;
/** Long enough for a repeat recorded by the last sync to be written (events go out in batches). */
const afterEventBatch = () => new Promise((resolve) => setTimeout(resolve, EVENT_BATCH_DELAY_MS * 4));
const waitForEvents = () =>
  waitFor(async () => ((await eventsNow()).length ? eventsNow() : undefined), { what: "events" });
// A second controller over the same informers, for options the shared one does not have.
const controllerWith = (options: Parameters<typeof createServiceProxyController>[2]) =>
  createServiceProxyController(
    {
      client: registry,
      informers,
      events: (c) => createEventRecorder(registry, c),
      clock: systemClock,
      log: () => {},
    },
    recordingProxy,
    options,
  );

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const allocator = createServiceAllocator();
  registry = createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] });
  await registry.bootstrap();
  synced = [];
  warnings = [];
  informers = createInformers(registry);
  controller = controllerWith({});
  await informers.start();
  controller.start();
});
afterEach(async () => {
  await controller.stop();
  informers.stop();
  await store.close();
});

const service = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default" },
  spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec },
});

const slice = (svc: string, endpoints: { ip: string; ready?: boolean; pod?: string }[]): KubeObject => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: `${svc}-abc`, namespace: "default", labels: { "kubernetes.io/service-name": svc } },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: { ready: e.ready ?? true },
    ...(e.pod ? { targetRef: { kind: "Pod", namespace: "default", name: e.pod } } : {}),
  })),
});

describe("service proxy controller", () => {
  test("syncs once at start even without Services", async () => {
    await waitFor(() => synced.length > 0, { what: "first sync" });
    expect(latest()).toEqual([]);
  });

  test("serves only ready endpoints from EndpointSlices, with NodePort and ClientIP affinity", async () => {
    const svc = await registry.create(
      "services",
      service("web", {
        type: "NodePort",
        sessionAffinity: "ClientIP",
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      }),
    );
    await registry.create(
      "endpointslices.discovery.k8s.io",
      slice("web", [{ ip: "10.88.0.5" }, { ip: "10.88.0.6", ready: false }]),
    );
    const spec = svc.spec as { clusterIP: string; ports: { nodePort: number }[] };
    await waitFor(() => latest()?.[0]?.endpoints.length === 1, { what: "sync with endpoints" });
    expect(latest()).toEqual([
      {
        key: "default/web:http",
        clusterIP: spec.clusterIP,
        port: 80,
        protocol: "TCP",
        nodePort: spec.ports[0]!.nodePort,
        endpoints: [{ ip: "10.88.0.5", port: 8080 }],
        affinityTimeoutSeconds: 60,
      },
    ]);
  });

  test("falls back to Endpoints when no slice exists", async () => {
    await registry.create("services", service("old"));
    await registry.create("endpoints", {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "old", namespace: "default" },
      subsets: [
        {
          addresses: [{ ip: "10.88.0.7" }],
          notReadyAddresses: [{ ip: "10.88.0.8" }],
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        },
      ],
    });
    await waitFor(() => latest()?.[0]?.endpoints.length === 1, { what: "sync from Endpoints" });
    expect(latest()![0]!.endpoints).toEqual([{ ip: "10.88.0.7", port: 8080 }]);
  });

  test("a pod leaves rotation as soon as its deletion starts", async () => {
    await registry.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "default", labels: { app: "web" } },
      spec: {
        nodeName: "minik",
        containers: [{ name: "c", image: "busybox" }],
        terminationGracePeriodSeconds: 30,
      },
    });
    await registry.create("services", service("web"));
    await registry.create(
      "endpointslices.discovery.k8s.io",
      slice("web", [{ ip: "10.88.0.5", pod: "web-1" }, { ip: "10.88.0.6" }]),
    );
    await waitFor(() => latest()?.[0]?.endpoints.length === 2, { what: "two endpoints" });
    await registry.delete("pods", "default", "web-1");
    expect((await registry.get("pods", "default", "web-1")).metadata.deletionTimestamp).toBeDefined();
    await waitFor(() => latest()?.[0]?.endpoints.length === 1, { what: "terminating pod removed" });
    expect(latest()![0]!.endpoints).toEqual([{ ip: "10.88.0.6", port: 8080 }]);
  });

  // Under Deno the PortConflict event does not arrive within the wait (to be looked into; see the
  // notes of issue 15): Bun only for now.
  testOnBun("a port the data path cannot honour becomes one Warning event on the Service", async () => {
    warnings = [
      { key: "default/web:http", message: "nodePort 30080/TCP is also the hostPort of pod default/hp" },
    ];
    await registry.create("services", service("web"));
    const events = await waitForEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "Warning",
      reason: "PortConflict",
      message: "nodePort 30080/TCP is also the hostPort of pod default/hp",
      involvedObject: { kind: "Service", name: "web" },
    });
    const syncs = synced.length;
    await registry.create("services", service("other"));
    await waitFor(() => synced.length > syncs, { what: "another sync" });
    await afterEventBatch();
    expect(((await eventsNow())[0] as { count?: number }).count).toBe(1);
  });

  test("a Service whose selector matches no pods is reported once, after a grace period", async () => {
    const eager = controllerWith({ noPodsGraceMs: 150 });
    eager.start();
    try {
      await registry.create("services", service("lonely"));
      await registry.create("services", service("served"));
      await registry.create(
        "endpointslices.discovery.k8s.io",
        slice("served", [{ ip: "10.88.0.5", ready: false }]),
      );
      const events = await waitForEvents();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: "Warning",
        reason: "NoPods",
        involvedObject: { kind: "Service", name: "lonely" },
      });
      expect(events[0]!.message).toContain("selector app=lonely matches no pods");
      // More syncs do not repeat it.
      const syncs = synced.length;
      await registry.create("services", service("third", { selector: {} }));
      await waitFor(() => synced.length > syncs, { what: "another sync" });
      await afterEventBatch();
      const again = await eventsNow();
      expect(again).toHaveLength(1);
      expect((again[0] as { count?: number }).count).toBe(1);
    } finally {
      await eager.stop();
    }
  });

  test("headless and ExternalName Services are not proxied; a deleted Service disappears", async () => {
    await registry.create("services", service("headless", { clusterIP: "None" }));
    await registry.create(
      "services",
      service("ext", { type: "ExternalName", externalName: "example.com", ports: [] }),
    );
    await registry.create("services", service("gone"));
    await waitFor(() => latest()?.length === 1, { what: "one proxied service" });
    expect(latest()![0]!.key).toBe("default/gone:http");
    await registry.delete("services", "default", "gone");
    await waitFor(() => latest()?.length === 0, { what: "service removed" });
  });
});
