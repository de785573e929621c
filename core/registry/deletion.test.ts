import { describe, expect, test } from "bun:test";
import { createRegistry } from "./registry.ts";
import { deploymentManifest, podManifest as pod, reason, useRegistry } from "./testing/test-fixture.ts";

const fx = useRegistry();
const deployment = deploymentManifest;

describe("delete", () => {
  test("unbound pods and plain objects go at once", async () => {
    await fx.registry.create("pods", pod("p"));
    const gone = await fx.registry.delete("pods", "default", "p");
    expect(gone.metadata.deletionTimestamp).toBeUndefined();
    expect(await fx.registry.tryGet("pods", "default", "p")).toBeUndefined();
    expect(await reason(fx.registry.delete("pods", "default", "p"))).toBe('404 NotFound: pods "p" not found');
  });

  test("bound pods terminate gracefully, then grace 0 removes them", async () => {
    await fx.registry.create("pods", pod("p", { nodeName: "node1", terminationGracePeriodSeconds: 5 }));
    const marked = await fx.registry.delete("pods", "default", "p");
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(await fx.registry.tryGet("pods", "default", "p")).toBeDefined();
    const explicit = await fx.registry.delete("pods", "default", "p", { gracePeriodSeconds: 2 });
    expect(explicit.metadata.deletionGracePeriodSeconds).toBe(2);
    await fx.registry.delete("pods", "default", "p", { gracePeriodSeconds: 0 });
    expect(await fx.registry.tryGet("pods", "default", "p")).toBeUndefined();
  });

  test("finalizers hold an object until an update empties them", async () => {
    const deleted: string[] = [];
    const reg = createRegistry(fx.store, { onDeleted: [(r, o) => deleted.push(`${r}/${o.metadata.name}`)] });
    const cm = await reg.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", finalizers: ["example.com/hold"] },
    });
    const marked = await reg.delete("configmaps", "default", "c");
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(deleted).toEqual([]);
    expect(
      await reason(
        reg.update("configmaps", {
          ...marked,
          metadata: { ...marked.metadata, finalizers: ["example.com/hold", "new.io/x"] },
        }),
      ),
    ).toContain("no new finalizers");
    await reg.update("configmaps", { ...marked, metadata: { ...marked.metadata, finalizers: [] } });
    expect(await reg.tryGet("configmaps", "default", "c")).toBeUndefined();
    expect(deleted).toEqual(["configmaps/c"]);
    expect(cm.metadata.finalizers).toEqual(["example.com/hold"]);
  });

  test("Foreground and Orphan add their finalizers", async () => {
    await fx.registry.create("deployments.apps", deployment("f"));
    const f = await fx.registry.delete("deployments.apps", "default", "f", {
      propagationPolicy: "Foreground",
    });
    expect(f.metadata.finalizers).toEqual(["foregroundDeletion"]);
    await fx.registry.create("deployments.apps", deployment("o"));
    const o = await fx.registry.delete("deployments.apps", "default", "o", { propagationPolicy: "Orphan" });
    expect(o.metadata.finalizers).toEqual(["orphan"]);
    expect(o.metadata.deletionTimestamp).toBeDefined();
  });

  test("namespaces turn Terminating and refuse new content", async () => {
    await fx.registry.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "demo" },
    });
    const ns = await fx.registry.delete("namespaces", "", "demo");
    expect(ns.status).toEqual({ phase: "Terminating" });
    expect(
      await reason(fx.registry.create("pods", { ...pod("x"), metadata: { name: "x", namespace: "demo" } })),
    ).toContain("403 Forbidden");
    await fx.registry.update("namespaces", { ...ns, spec: { finalizers: [] } });
    expect(await fx.registry.tryGet("namespaces", "", "demo")).toBeUndefined();
  });

  test("the system namespaces may not be deleted", async () => {
    expect(await reason(fx.registry.delete("namespaces", "", "kube-system"))).toBe(
      '403 Forbidden: namespaces "kube-system" is forbidden: this namespace may not be deleted',
    );
  });

  test("uid precondition mismatch is a Conflict", async () => {
    await fx.registry.create("pods", pod("p"));
    expect(
      await reason(fx.registry.delete("pods", "default", "p", { preconditions: { uid: "other" } })),
    ).toContain("409 Conflict");
  });

  test("dryRun deletes nothing", async () => {
    await fx.registry.create("pods", pod("p"));
    await fx.registry.delete("pods", "default", "p", { dryRun: true });
    expect(await fx.registry.tryGet("pods", "default", "p")).toBeDefined();
  });
});
