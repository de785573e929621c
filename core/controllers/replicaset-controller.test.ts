import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import { listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

type P = Kube<Pod>;
type RS = Kube<ReplicaSet>;

const replicaSet = (replicas: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "cache" },
  spec: {
    replicas,
    selector: { matchLabels: { app: "cache" } },
    template: {
      metadata: { labels: { app: "cache", tier: "db" } },
      spec: { containers: [{ name: "redis", image: "redis:7" }] },
    },
  },
});

const bare = (name: string, labels: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [{ name: "redis", image: "redis:7" }] },
});

async function pods(): Promise<P[]> {
  return listAll<P>(cluster.client, "pods");
}

async function rs(): Promise<RS> {
  return cluster.client.get<RS>("replicasets.apps", "default", "cache");
}

describe("replicaset controller", () => {
  test("adopts a matching orphan, creates the rest, and publishes status", async () => {
    cluster = await startTestCluster({ disabled: ["deployment"] });
    await cluster.client.create("pods", bare("orphan", { app: "cache" }));
    await cluster.client.create("replicasets.apps", replicaSet(2));
    const owned = await waitFor(
      async () => {
        const list = (await pods()).filter((p) => p.metadata.ownerReferences?.[0]?.name === "cache");
        return list.length === 2 ? list : undefined;
      },
      { what: "2 owned pods" },
    );
    expect(owned.map((p) => p.metadata.name)).toContain("orphan");
    const created = owned.find((p) => p.metadata.name !== "orphan")!;
    expect(created.metadata.name).toMatch(/^cache-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(created.metadata.generateName).toBe("cache-");
    expect(created.metadata.labels).toEqual({ app: "cache", tier: "db" });
    const status = await waitFor(async () => {
      const s = (await rs()).status;
      return s?.readyReplicas === 2 ? s : undefined;
    });
    // The adopted orphan lacks the template's tier label: not fully labelled.
    expect(status).toMatchObject({
      replicas: 2,
      fullyLabeledReplicas: 1,
      availableReplicas: 2,
      observedGeneration: 1,
    });
    const events = await waitFor(async () => {
      const list = (await listAll(cluster.client, "events")).filter((e) => e.reason === "SuccessfulCreate");
      return list.length === 1 ? list : undefined;
    });
    expect(events[0]!.message).toBe(`Created pod: ${created.metadata.name}`);
  });

  test("releases a pod that stops matching and replaces it", async () => {
    cluster = await startTestCluster({ disabled: ["deployment"] });
    await cluster.client.create("replicasets.apps", replicaSet(1));
    const [first] = await waitFor(async () => {
      const list = await pods();
      return list.length === 1 && list[0]!.status?.phase === "Running" ? list : undefined;
    });
    await cluster.client.update("pods", {
      ...first!,
      metadata: { ...first!.metadata, labels: { app: "debug" } },
    });
    await waitFor(async () => (await pods()).length === 2, { what: "replacement pod" });
    const released = await waitFor(
      async () => {
        const p = await cluster.client.get<P>("pods", "default", first!.metadata.name!);
        return (p.metadata.ownerReferences ?? []).length === 0 ? p : undefined;
      },
      { what: "released" },
    );
    expect(released.metadata.labels).toEqual({ app: "debug" });
  });

  test("pods being deleted do not count; scale-down deletes the least useful pods", async () => {
    cluster = await startTestCluster({ disabled: ["deployment"] });
    cluster.kubelet.finishDeletions = false;
    await cluster.client.create("replicasets.apps", replicaSet(3));
    await waitFor(async () => (await rs()).status?.readyReplicas === 3, { what: "3 ready" });
    const [victim] = await pods();
    await cluster.client.delete("pods", "default", victim!.metadata.name!);
    const status = await waitFor(
      async () => {
        const list = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
        const s = (await rs()).status;
        return list.length === 3 && s?.replicas === 3 && s.readyReplicas === 3 ? s : undefined;
      },
      { what: "replacement counted, terminating pod not" },
    );
    expect(status.replicas).toBe(3);
    expect((await pods()).length).toBe(4);

    // Scale down to 1: a not-ready pod goes before ready ones.
    const live = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
    await cluster.kubelet.setReady("default", live[0]!.metadata.name!, false);
    await waitFor(async () => (await rs()).status?.readyReplicas === 2);
    await cluster.client.update("replicasets.apps", {
      ...(await rs()),
      spec: { ...(await rs()).spec!, replicas: 2 },
    });
    const gone = await waitFor(
      async () => {
        const p = await cluster.client.get<P>("pods", "default", live[0]!.metadata.name!);
        return p.metadata.deletionTimestamp ? p : undefined;
      },
      { what: "not-ready pod deleted first" },
    );
    expect(gone.metadata.name).toBe(live[0]!.metadata.name);
  });
});
