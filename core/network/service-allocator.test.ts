import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Service } from "kubernetes-types/core/v1";
import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { createServiceAllocator, type ServiceAllocator } from "./service-allocator.ts";

let store: Store;
let registry: Registry;
let allocator: ServiceAllocator;

async function open(): Promise<void> {
  allocator = createServiceAllocator({ serviceCidr: "10.96.0.0/28", nodePortRange: "30000-30003" });
  registry = createRegistry(store, { admit: [allocator.admit], onDeleted: [allocator.onDeleted] });
  await registry.bootstrap();
  allocator.recover((await registry.list("services")).items);
}

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  await open();
});
afterEach(async () => {
  await store.close();
});

function svc(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
  };
}

const specOf = (o: KubeObject) => (o as unknown as Service).spec!;

describe("service allocator", () => {
  test("allocates distinct ClusterIPs from the range, never the reserved .1 and .10", async () => {
    const got: string[] = [];
    for (let i = 0; i < 12; i++) got.push(specOf(await registry.create("services", svc(`s${i}`))).clusterIP!);
    expect(new Set(got).size).toBe(12);
    expect(got).not.toContain("10.96.0.1");
    expect(got).not.toContain("10.96.0.10");
    for (const ip of got) expect(ip).toMatch(/^10\.96\.0\.(\d+)$/);
    const err = await registry.create("services", svc("full")).catch((e) => e);
    expect(isApiError(err)).toBe(true);
    expect(err.message).toContain("10.96.0.0/28");
    // The reserved addresses go to a Service that asks for them.
    expect(
      specOf(await registry.create("services", svc("kubernetes", { clusterIP: "10.96.0.1" }))).clusterIP,
    ).toBe("10.96.0.1");
  });

  test("a requested ClusterIP that is taken or out of range is a 422 naming it", async () => {
    const a = specOf(await registry.create("services", svc("a"))).clusterIP!;
    const taken = await registry.create("services", svc("b", { clusterIP: a })).catch((e) => e);
    expect(isApiError(taken, "Invalid")).toBe(true);
    expect(taken.code).toBe(422);
    expect(taken.message).toContain(
      `spec.clusterIP: Invalid value: "${a}": provided IP is already allocated (to service default/a)`,
    );
    const outside = await registry.create("services", svc("c", { clusterIP: "10.97.0.5" })).catch((e) => e);
    expect(outside.message).toContain("not in the valid range");
  });

  test("NodePorts: allocated in range, requested conflicts rejected with the port named, freed on delete", async () => {
    const a = specOf(
      await registry.create(
        "services",
        svc("a", { type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }),
      ),
    );
    expect(a.ports![0]!.nodePort).toBe(30001);
    const b = specOf(await registry.create("services", svc("b", { type: "NodePort" })));
    expect(b.ports![0]!.nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.ports![0]!.nodePort).not.toBe(30001);
    const clash = await registry
      .create("services", svc("c", { type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }))
      .catch((e) => e);
    expect(clash.code).toBe(422);
    expect(clash.message).toContain(
      "spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated (to service default/a)",
    );
    // The rejected create allocated nothing (its ClusterIP is not held either).
    expect(Object.values(allocator.allocations().clusterIPs)).not.toContain("default/c");
    const range = await registry
      .create("services", svc("d", { type: "NodePort", ports: [{ port: 80, nodePort: 31000 }] }))
      .catch((e) => e);
    expect(range.message).toContain("30000-30003");
    await registry.delete("services", "default", "a");
    expect(
      specOf(
        await registry.create(
          "services",
          svc("c", { type: "NodePort", ports: [{ port: 80, nodePort: 30001 }] }),
        ),
      ).ports![0]!.nodePort,
    ).toBe(30001);
  });

  test("updates keep allocations, switching type frees NodePorts, dry runs allocate nothing", async () => {
    const created = await registry.create("services", svc("a", { type: "NodePort" }));
    const port = specOf(created).ports![0]!.nodePort!;
    const ip = specOf(created).clusterIP;
    const asClusterIP = {
      ...created,
      spec: { ...specOf(created), type: "ClusterIP", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }] },
    };
    const updated = await registry.update("services", asClusterIP as KubeObject);
    expect(specOf(updated).clusterIP).toBe(ip);
    expect(allocator.allocations().nodePorts[port]).toBeUndefined();
    const dry = await registry.create("services", svc("dry", { type: "NodePort" }), { dryRun: true });
    expect(dry).toBeDefined();
    expect(Object.values(allocator.allocations().clusterIPs)).not.toContain("default/dry");
  });

  test("state is recovered from stored Services after a restart", async () => {
    const a = specOf(await registry.create("services", svc("a", { type: "NodePort" })));
    await open();
    expect(allocator.allocations().clusterIPs[a.clusterIP!]).toBe("default/a");
    const clash = await registry.create("services", svc("b", { clusterIP: a.clusterIP })).catch((e) => e);
    expect(clash.code).toBe(422);
    const b = specOf(await registry.create("services", svc("c", { type: "NodePort" })));
    expect(b.ports![0]!.nodePort).not.toBe(a.ports![0]!.nodePort);
  });

  test("headless and ExternalName Services get no ClusterIP", async () => {
    expect(specOf(await registry.create("services", svc("h", { clusterIP: "None" }))).clusterIP).toBe("None");
    const ext = specOf(
      await registry.create(
        "services",
        svc("e", { type: "ExternalName", externalName: "example.com", ports: [] }),
      ),
    );
    expect(ext.clusterIP).toBeUndefined();
  });
});
