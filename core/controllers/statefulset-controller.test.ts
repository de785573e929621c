import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import { createFakeLocalVolumes } from "../seams/testing/fake-local-volumes.ts";
import type { Kube } from "./owner-references.ts";
import { listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

type P = Kube<Pod>;
type Sts = Kube<StatefulSet>;

function statefulSet(replicas: number, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: {
      replicas,
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: {
          containers: [
            { name: "db", image: "busybox:1", volumeMounts: [{ name: "data", mountPath: "/data" }] },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Mi" } } },
        },
      ],
      ...spec,
    },
  };
}

async function start(autoReady = true): Promise<void> {
  cluster = await startTestCluster({ localVolumes: createFakeLocalVolumes(), autoReady });
}

const live = async () =>
  (await listAll<P>(cluster.client, "pods")).filter((p) => !p.metadata.deletionTimestamp);
const names = async () => (await live()).map((p) => p.metadata.name).sort();
const sts = () => cluster.client.get<Sts>("statefulsets.apps", "default", "db");

describe("statefulset controller", () => {
  test("OrderedReady: db-0 first, db-1 only once db-0 is Ready; claims per ordinal, bound", async () => {
    await start(false);
    await cluster.client.create("statefulsets.apps", statefulSet(2));
    await waitFor(async () => (await names()).join() === "db-0", { what: "db-0" });
    await new Promise((r) => setTimeout(r, 200));
    expect(await names()).toEqual(["db-0"]);
    const db0 = (await live())[0]!;
    expect(db0.spec?.hostname).toBe("db-0");
    expect(db0.spec?.subdomain).toBe("db");
    expect(db0.metadata.labels?.["statefulset.kubernetes.io/pod-name"]).toBe("db-0");
    expect(db0.metadata.labels?.["apps.kubernetes.io/pod-index"]).toBe("0");
    expect(db0.spec?.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }]);

    await waitFor(async () => (await live())[0]?.spec?.nodeName, { what: "db-0 scheduled" });
    await cluster.kubelet.setReady("default", "db-0", true);
    await waitFor(async () => (await names()).join() === "db-0,db-1", { what: "db-1" });
    await cluster.kubelet.setReady("default", "db-1", true);
    const claims = await waitFor(async () => {
      const list = await listAll<Kube<PersistentVolumeClaim>>(cluster.client, "persistentvolumeclaims");
      return list.length === 2 && list.every((c) => c.status?.phase === "Bound") ? list : undefined;
    });
    expect(claims.map((c) => c.metadata.name).sort()).toEqual(["data-db-0", "data-db-1"]);
    expect(claims[0]!.metadata.labels).toEqual({ app: "db" });
    const s = await waitFor(async () => {
      const x = await sts();
      return x.status?.readyReplicas === 2 ? x : undefined;
    });
    expect(s.status?.currentRevision).toBe(s.status?.updateRevision);
    expect(s.status?.currentRevision).toMatch(/^db-/);
  });

  test("a deleted pod comes back under the same name with the same claim", async () => {
    await start();
    await cluster.client.create("statefulsets.apps", statefulSet(2));
    await waitFor(async () => (await sts()).status?.readyReplicas === 2);
    const before = (await live()).find((p) => p.metadata.name === "db-0")!;
    await cluster.client.delete("pods", "default", "db-0");
    const after = await waitFor(async () => {
      const p = (await live()).find((x) => x.metadata.name === "db-0");
      return p && p.metadata.uid !== before.metadata.uid ? p : undefined;
    });
    expect(after.spec?.volumes).toEqual(before.spec?.volumes);
  });

  test("scale down removes the highest ordinal first; claims are retained by default", async () => {
    await start();
    await cluster.client.create("statefulsets.apps", statefulSet(3));
    await waitFor(async () => (await sts()).status?.readyReplicas === 3);
    const deleted: string[] = [];
    const stop = await cluster.client.watch("pods", {}, (e) => {
      if (e.type === "DELETED") deleted.push(e.object.metadata.name!);
    });
    await cluster.client.patch("statefulsets.apps", "default", "db", "merge", { spec: { replicas: 1 } });
    await waitFor(async () => (await names()).join() === "db-0", { what: "scaled to 1" });
    stop();
    expect(deleted).toEqual(["db-2", "db-1"]);
    const claims = await listAll(cluster.client, "persistentvolumeclaims");
    expect(claims.length).toBe(3);
  });

  test("whenScaled/whenDeleted Delete: claims go with their pods and with the set", async () => {
    await start();
    await cluster.client.create(
      "statefulsets.apps",
      statefulSet(2, {
        podManagementPolicy: "Parallel",
        persistentVolumeClaimRetentionPolicy: { whenScaled: "Delete", whenDeleted: "Delete" },
      }),
    );
    await waitFor(async () => (await sts()).status?.readyReplicas === 2);
    await cluster.client.patch("statefulsets.apps", "default", "db", "merge", { spec: { replicas: 1 } });
    await waitFor(
      async () => {
        const claims = await listAll(cluster.client, "persistentvolumeclaims");
        return claims.length === 1 && claims[0]!.metadata.name === "data-db-0";
      },
      { what: "data-db-1 gone" },
    );
    await cluster.client.delete("statefulsets.apps", "default", "db");
    await waitFor(async () => (await listAll(cluster.client, "persistentvolumeclaims")).length === 0, {
      what: "claims gone with the set",
    });
    await waitFor(async () => (await listAll(cluster.client, "controllerrevisions.apps")).length === 0, {
      what: "revisions gone with the set",
    });
  });

  test("RollingUpdate with a partition updates only ordinals at or above it, highest first", async () => {
    await start();
    await cluster.client.create(
      "statefulsets.apps",
      statefulSet(3, { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }),
    );
    const first = await waitFor(async () => {
      const x = await sts();
      return x.status?.readyReplicas === 3 ? x : undefined;
    });
    await cluster.client.patch("statefulsets.apps", "default", "db", "json", [
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "busybox:2" },
    ]);
    const rolled = await waitFor(async () => {
      const x = await sts();
      return x.status?.updatedReplicas === 2 && x.status.readyReplicas === 3 ? x : undefined;
    });
    expect(rolled.status?.currentRevision).toBe(first.status?.currentRevision);
    expect(rolled.status?.updateRevision).not.toBe(first.status?.updateRevision);
    const images = Object.fromEntries(
      (await live()).map((p) => [p.metadata.name, p.spec?.containers[0]?.image]),
    );
    expect(images).toEqual({ "db-0": "busybox:1", "db-1": "busybox:2", "db-2": "busybox:2" });
    const revs = await listAll<Kube<ControllerRevision>>(cluster.client, "controllerrevisions.apps");
    expect(revs.map((r) => r.revision).sort()).toEqual([1, 2]);
    // Partition 0 finishes the rollout; the current revision moves.
    await cluster.client.patch("statefulsets.apps", "default", "db", "merge", {
      spec: { updateStrategy: { rollingUpdate: { partition: 0 } } },
    });
    const done = await waitFor(async () => {
      const x = await sts();
      return x.status?.currentRevision === x.status?.updateRevision && x.status?.updatedReplicas === 3
        ? x
        : undefined;
    });
    expect(done.status?.currentReplicas).toBe(3);
  });

  test("OnDelete: a template change touches no pod until it is deleted", async () => {
    await start();
    await cluster.client.create(
      "statefulsets.apps",
      statefulSet(1, { updateStrategy: { type: "OnDelete" } }),
    );
    await waitFor(async () => (await sts()).status?.readyReplicas === 1);
    await cluster.client.patch("statefulsets.apps", "default", "db", "json", [
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "busybox:2" },
    ]);
    await waitFor(async () => (await sts()).status?.updateRevision !== (await sts()).status?.currentRevision);
    await new Promise((r) => setTimeout(r, 200));
    expect((await live())[0]?.spec?.containers[0]?.image).toBe("busybox:1");
    await cluster.client.delete("pods", "default", "db-0");
    await waitFor(async () => (await live())[0]?.spec?.containers[0]?.image === "busybox:2");
  });

  test("pods orphaned by a cascade=orphan delete are adopted by the next set, not recreated", async () => {
    await start();
    await cluster.client.create("statefulsets.apps", statefulSet(2));
    await waitFor(async () => (await sts()).status?.readyReplicas === 2);
    const uids = (await live()).map((p) => p.metadata.uid).sort();
    await cluster.client.delete("statefulsets.apps", "default", "db", { propagationPolicy: "Orphan" });
    await waitFor(async () => (await live()).every((p) => !p.metadata.ownerReferences?.length), {
      what: "pods orphaned",
    });
    await cluster.client.create("statefulsets.apps", statefulSet(2));
    const adopted = await waitFor(async () => {
      const set = await sts();
      const now = await live();
      return now.every((p) => p.metadata.ownerReferences?.[0]?.uid === set.metadata.uid) ? now : undefined;
    });
    expect(adopted.map((p) => p.metadata.uid).sort()).toEqual(uids);
  });

  test("immutable fields and bad specs are 422 naming the field", async () => {
    await start();
    const bad = statefulSet(-1, { podManagementPolicy: "Sometimes" });
    const err = await cluster.client.create("statefulsets.apps", bad).catch((e) => e);
    expect(err.code).toBe(422);
    expect(err.message).toContain("spec.replicas");
    expect(err.message).toContain("spec.podManagementPolicy");
    await cluster.client.create("statefulsets.apps", statefulSet(1));
    for (const change of [
      { serviceName: "other" },
      { selector: { matchLabels: { app: "db", x: "y" } } },
      { volumeClaimTemplates: [] },
    ]) {
      const e = await cluster.client
        .patch("statefulsets.apps", "default", "db", "merge", { spec: change })
        .catch((x) => x);
      expect(e.code).toBe(422);
      expect(e.message).toContain("updates to statefulset spec for fields other than");
    }
    // replicas, template and updateStrategy may change
    await cluster.client.patch("statefulsets.apps", "default", "db", "merge", { spec: { replicas: 2 } });
  });
});
