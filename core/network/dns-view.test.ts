import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createInformers, type Informers } from "../controllers/informer.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createAddressNameView, createServiceDnsView } from "./dns-view.ts";
import { createServiceAllocator } from "./service-allocator.ts";

let store: Store;
let registry: Registry;
let informers: Informers;

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const allocator = createServiceAllocator();
  registry = createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] });
  await registry.bootstrap();
  informers = createInformers(registry);
});
afterEach(async () => {
  informers.stop();
  await store.close();
});

describe("cluster DNS views", () => {
  test("Services by name (ClusterIP, headless endpoints, ExternalName) and addresses by reverse name", async () => {
    const lookup = createServiceDnsView(informers);
    const nameOf = createAddressNameView(informers);
    await informers.start();
    const web = await registry.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    await registry.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db", namespace: "default" },
      spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432 }] },
    });
    await registry.create("endpointslices.discovery.k8s.io", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "db-1", namespace: "default", labels: { "kubernetes.io/service-name": "db" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.88.0.9"], conditions: { ready: true }, hostname: "db-0" },
        { addresses: ["10.88.0.8"], conditions: { ready: false }, hostname: "db-1" },
      ],
    });
    const pod = await registry.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "db-0", namespace: "default" },
      spec: { nodeName: "minik", containers: [{ name: "c", image: "busybox" }] },
    });
    await registry.updateStatus("pods", { ...pod, status: { phase: "Running", podIP: "10.88.0.9" } });
    const clusterIP = (web.spec as unknown as { clusterIP: string }).clusterIP;
    await waitFor(() => lookup("default", "db")?.ips.length === 1 && nameOf("10.88.0.9"), { what: "caches" });
    expect(lookup("default", "web")).toEqual({
      ips: [clusterIP],
      ports: [{ name: undefined, port: 80, protocol: "TCP" }],
    });
    expect(lookup("default", "db")?.ips).toEqual(["10.88.0.9"]);
    // Per-pod names of a headless Service: ready endpoints with a hostname only.
    expect(lookup("default", "db")?.hosts).toEqual({ "db-0": ["10.88.0.9"] });
    expect(lookup("other", "web")).toBeUndefined();
    expect(nameOf(clusterIP)).toBe("web.default.svc.cluster.local");
    expect(nameOf("10.88.0.9")).toBe("10-88-0-9.default.pod.cluster.local");
    expect(nameOf("10.88.0.77")).toBeUndefined();
  });
});
