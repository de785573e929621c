import { afterEach, describe, expect, test } from "bun:test";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { Event, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import { listAll, startTestCluster, type TestCluster } from "./test-kit.ts";

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

/** The manifest of issue 2, verbatim (old API group included). */
const ISSUE_2: KubeObject = {
  apiVersion: "extensions/v1beta1",
  kind: "Deployment",
  metadata: { name: "nginx-deployment" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "nginx-server" } },
    template: {
      metadata: { labels: { app: "nginx-server" } },
      spec: { containers: [{ name: "nginx", image: "nginx:1.7.9", ports: [{ containerPort: 80 }] }] },
    },
  },
};

type D = Kube<Deployment>;
type RS = Kube<ReplicaSet>;
type P = Kube<Pod>;

async function deployment(name: string): Promise<D> {
  return cluster.client.get<D>("deployments.apps", "default", name);
}

/** kubectl rollout status's test for "successfully rolled out". */
function rolledOut(d: D): boolean {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}

async function waitRolledOut(name: string, what = `${name} rolled out`): Promise<D> {
  return waitFor(
    async () => {
      const d = await deployment(name);
      return rolledOut(d) ? d : undefined;
    },
    { what },
  );
}

async function activePods(): Promise<P[]> {
  return (await listAll<P>(cluster.client, "pods")).filter((p) => !p.metadata.deletionTimestamp);
}

async function edit(name: string, change: (d: D) => void): Promise<D> {
  const d = await deployment(name);
  change(d);
  return cluster.client.update<D>("deployments.apps", d);
}

/** name → resourceVersion of the objects controllers write (events left out: they are async). */
async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of ["deployments.apps", "replicasets.apps", "pods"]) {
    for (const o of await listAll(cluster.client, r))
      out[`${r}/${o.metadata.name}`] = o.metadata.resourceVersion!;
  }
  return out;
}

describe("deployment controller", () => {
  test("issue 2's manifest: one ReplicaSet, two pods, names, owners, labels and status", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", ISSUE_2);
    const d = await waitRolledOut("nginx-deployment");

    const sets = await listAll<RS>(cluster.client, "replicasets.apps");
    expect(sets).toHaveLength(1);
    const rs = sets[0]!;
    const hash = rs.metadata.labels?.["pod-template-hash"];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs.metadata.name).toBe(`nginx-deployment-${hash}`);
    expect(rs.spec?.selector?.matchLabels).toEqual({ app: "nginx-server", "pod-template-hash": hash! });
    expect(rs.metadata.annotations).toMatchObject({
      "deployment.kubernetes.io/revision": "1",
      "deployment.kubernetes.io/desired-replicas": "2",
      "deployment.kubernetes.io/max-replicas": "3",
    });
    expect(rs.metadata.ownerReferences).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "nginx-deployment",
        uid: d.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);

    const pods = await listAll<P>(cluster.client, "pods");
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(
        new RegExp(`^nginx-deployment-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
      );
      expect(pod.metadata.labels).toEqual({ app: "nginx-server", "pod-template-hash": hash! });
      expect(pod.metadata.ownerReferences).toEqual([
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs.metadata.name!,
          uid: rs.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(pod.spec?.nodeName).toBe("minik-test");
    }

    expect(d.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(d.status).toMatchObject({
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    });
    const progressing = await waitFor(async () => {
      const c = (await deployment("nginx-deployment")).status?.conditions?.find(
        (x) => x.type === "Progressing",
      );
      return c?.reason === "NewReplicaSetAvailable" ? c : undefined;
    });
    expect(progressing.message).toBe(`ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
    const available = (await deployment("nginx-deployment")).status?.conditions?.find(
      (x) => x.type === "Available",
    );
    expect(available).toMatchObject({ status: "True", reason: "MinimumReplicasAvailable" });

    const events = await waitFor(async () => {
      const list = await listAll<Kube<Event>>(cluster.client, "events");
      return list.some((e) => e.reason === "ScalingReplicaSet") &&
        list.filter((e) => e.reason === "SuccessfulCreate").length === 2
        ? list
        : undefined;
    });
    expect(events.find((e) => e.reason === "ScalingReplicaSet")?.message).toBe(
      `Scaled up replica set ${rs.metadata.name} from 0 to 2`,
    );
  });

  test("a reconcile run twice changes nothing the second time", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", ISSUE_2);
    await waitRolledOut("nginx-deployment");
    await waitFor(async () =>
      (await deployment("nginx-deployment")).status?.conditions?.some(
        (c) => c.reason === "NewReplicaSetAvailable",
      ),
    );
    const rs = (await listAll<RS>(cluster.client, "replicasets.apps"))[0]!;
    const { controllers } = cluster.manager;
    const before = await versions();
    await controllers.deployment!.reconcile("default/nginx-deployment");
    await controllers.replicaset!.reconcile(`default/${rs.metadata.name}`);
    await controllers.deployment!.reconcile("default/nginx-deployment");
    expect(await versions()).toEqual(before);
    expect(cluster.logs).toEqual([]);
  });
});
