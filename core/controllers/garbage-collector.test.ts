import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { ConfigMap, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import { deploymentManifest, listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

const web = deploymentManifest("web", { replicas: 2 });

async function count(resource: string): Promise<number> {
  return (await listAll(cluster.client, resource)).length;
}

async function deployed(): Promise<void> {
  await cluster.client.create("deployments.apps", web);
  await waitFor(
    async () =>
      (await listAll<Kube<Pod>>(cluster.client, "pods")).filter((p) => p.status?.phase === "Running")
        .length === 2,
    {
      what: "2 running pods",
    },
  );
}

describe("garbage collector", () => {
  test("background: deleting the deployment removes its ReplicaSet and pods", async () => {
    cluster = await startTestCluster();
    await deployed();
    await cluster.client.delete("deployments.apps", "default", "web", { propagationPolicy: "Background" });
    await waitFor(async () => (await count("replicasets.apps")) === 0 && (await count("pods")) === 0, {
      what: "dependents gone",
    });
  });

  test("foreground: the owner stays until its dependents are gone", async () => {
    cluster = await startTestCluster();
    await deployed();
    const order: string[] = [];
    const stops = await Promise.all(
      ["deployments.apps", "replicasets.apps", "pods"].map((r) =>
        cluster.client.watch(r, { resourceVersion: "" }, (e) => {
          if (e.type === "DELETED") order.push(e.object.kind);
        }),
      ),
    );
    const deleting = await cluster.client.delete("deployments.apps", "default", "web", {
      propagationPolicy: "Foreground",
    });
    expect(deleting.metadata.finalizers).toContain("foregroundDeletion");
    await waitFor(async () => !(await cluster.client.tryGet("deployments.apps", "default", "web")), {
      what: "deployment gone",
    });
    for (const stop of stops) stop();
    expect(await count("replicasets.apps")).toBe(0);
    expect(await count("pods")).toBe(0);
    // Pods before their ReplicaSet, the ReplicaSet before the Deployment.
    expect(order).toEqual(["Pod", "Pod", "ReplicaSet", "Deployment"]);
  });

  test("orphan: dependents stay, without the reference to the deleted owner", async () => {
    cluster = await startTestCluster({ disabled: ["deployment"] });
    const owner = await cluster.client.create<Kube<ConfigMap>>("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owner" },
    });
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: owner.metadata.uid!,
      blockOwnerDeletion: true,
    };
    await cluster.client.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dep", ownerReferences: [ref] },
    });
    await cluster.client.delete("configmaps", "default", "owner", { propagationPolicy: "Orphan" });
    await waitFor(async () => !(await cluster.client.tryGet("configmaps", "default", "owner")), {
      what: "owner gone",
    });
    const dep = await cluster.client.get("configmaps", "default", "dep");
    expect(dep.metadata.ownerReferences ?? []).toEqual([]);
  });

  test("a dependent created for an owner that no longer exists is collected", async () => {
    cluster = await startTestCluster();
    const ref = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "ghost",
      uid: "00000000-0000-0000-0000-000000000000",
      controller: true,
    };
    await cluster.client.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "stray", ownerReferences: [ref] },
    });
    await waitFor(async () => !(await cluster.client.tryGet("configmaps", "default", "stray")), {
      what: "stray collected",
    });
  });

  test("a reference to a live owner keeps the dependent", async () => {
    cluster = await startTestCluster({ disabled: ["deployment", "replicaset"] });
    const rs = await cluster.client.create<Kube<ReplicaSet>>("replicasets.apps", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "keep" },
      spec: {
        replicas: 0,
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        },
      },
    });
    const ref = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "keep",
      uid: rs.metadata.uid!,
      controller: true,
    };
    const cm = await cluster.client.create<KubeObject>("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kept", ownerReferences: [ref] },
    });
    await cluster.manager.controllers["garbage-collector"]!.reconcile(`configmaps|default/kept`);
    expect((await cluster.client.get("configmaps", "default", "kept")).metadata.resourceVersion).toBe(
      cm.metadata.resourceVersion,
    );
  });
});

describe("namespace controller", () => {
  test("a Terminating namespace is emptied, then removed", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "scratch" },
    });
    await cluster.client.create("deployments.apps", {
      ...web,
      metadata: { name: "web", namespace: "scratch" },
    });
    await cluster.client.create("configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: "scratch" },
    });
    await waitFor(async () => (await listAll(cluster.client, "pods", "scratch")).length === 2, {
      what: "pods in scratch",
    });
    const ns = await cluster.client.delete("namespaces", "", "scratch");
    expect(ns.status).toMatchObject({ phase: "Terminating" });
    await waitFor(async () => !(await cluster.client.tryGet("namespaces", "", "scratch")), {
      what: "namespace removed",
    });
    for (const r of ["pods", "replicasets.apps", "deployments.apps", "configmaps"])
      expect(await listAll(cluster.client, r, "scratch")).toEqual([]);
  });
});

describe("event TTL", () => {
  test("events older than the TTL and beyond the per-namespace cap go", async () => {
    cluster = await startTestCluster({
      eventTtl: { ttlMs: 3_600_000, maxPerNamespace: 3, everyMs: 3_600_000 },
    });
    const at = (minutesAgo: number) =>
      new Date(Date.now() - minutesAgo * 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    const event = (name: string, minutesAgo: number) => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name },
      involvedObject: { kind: "Pod", name: "p", namespace: "default" },
      reason: "Test",
      message: name,
      type: "Normal",
      firstTimestamp: at(minutesAgo),
      lastTimestamp: at(minutesAgo),
      count: 1,
    });
    for (const [name, age] of [
      ["old", 90],
      ["e1", 50],
      ["e2", 40],
      ["e3", 30],
      ["e4", 20],
    ] as const) {
      await cluster.client.create("events", event(name, age));
    }
    await cluster.manager.controllers["event-ttl"]!.reconcile("sweep");
    const names = (await listAll(cluster.client, "events")).map((e) => e.metadata.name).sort();
    expect(names).toEqual(["e2", "e3", "e4"]);
  });
});
