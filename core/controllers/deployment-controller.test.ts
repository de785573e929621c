import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1";
import type { Event, Pod } from "kubernetes-types/core/v1";
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

function webDeployment(name: string, replicas: number, spec: Record<string, unknown> = {}): KubeObject {
  return deploymentManifest(name, { replicas, spec });
}

function setImage(image: string) {
  return (d: D) => {
    d.spec!.template.spec!.containers[0]!.image = image;
  };
}

async function replicaSets(): Promise<RS[]> {
  return listAll<RS>(cluster.client, "replicasets.apps");
}

function revision(o: KubeObject): string | undefined {
  return o.metadata.annotations?.["deployment.kubernetes.io/revision"];
}

/** Follows pods through a watch, calling `check` with the live set after every change. */
async function watchPods(check: (pods: Map<string, P>) => void): Promise<() => void> {
  const live = new Map<string, P>();
  for (const p of await listAll<P>(cluster.client, "pods")) live.set(p.metadata.name!, p);
  const { resourceVersion } = await cluster.client.list("pods");
  return cluster.client.watch("pods", { resourceVersion }, (e) => {
    if (e.type === "DELETED") live.delete(e.object.metadata.name!);
    else live.set(e.object.metadata.name!, e.object as P);
    check(live);
  });
}

function isReady(p: P): boolean {
  return (
    !p.metadata.deletionTimestamp &&
    !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
  );
}

describe("deployment scaling and strategies", () => {
  test("scale up and down", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 2));
    await waitRolledOut("web");
    await edit("web", (d) => {
      d.spec!.replicas = 5;
    });
    await waitRolledOut("web", "5 replicas");
    expect(await activePods()).toHaveLength(5);
    await edit("web", (d) => {
      d.spec!.replicas = 1;
    });
    await waitRolledOut("web", "1 replica");
    await waitFor(async () => (await activePods()).length === 1, { what: "pods down to 1" });
    const sets = await replicaSets();
    expect(sets).toHaveLength(1);
    expect(sets[0]!.spec?.replicas).toBe(1);
    expect(sets[0]!.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"]).toBe("1");
  });

  test("rolling update with maxUnavailable 0 / maxSurge 1 never has fewer than replicas ready", async () => {
    cluster = await startTestCluster();
    const strategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } };
    await cluster.client.create("deployments.apps", webDeployment("web", 3, { strategy }));
    await waitRolledOut("web");
    let minReady = Number.POSITIVE_INFINITY;
    let maxPods = 0;
    const stop = await watchPods((live) => {
      const pods = [...live.values()];
      minReady = Math.min(minReady, pods.filter(isReady).length);
      maxPods = Math.max(maxPods, pods.filter((p) => !p.metadata.deletionTimestamp).length);
    });
    await edit("web", (d) => {
      setImage("nginx:1.26")(d);
      d.metadata.annotations = { ...d.metadata.annotations, "kubernetes.io/change-cause": "upgrade to 1.26" };
    });
    const d = await waitFor(
      async () => {
        const x = await deployment("web");
        return x.metadata.generation === 2 && rolledOut(x) ? x : undefined;
      },
      { what: "rollout to nginx:1.26" },
    );
    stop();
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(maxPods).toBeLessThanOrEqual(4);
    expect(revision(d)).toBe("2");
    const sets = await replicaSets();
    expect(sets).toHaveLength(2);
    const fresh = sets.find((rs) => revision(rs) === "2")!;
    expect(fresh.spec?.replicas).toBe(3);
    expect(fresh.spec?.template?.spec?.containers[0]?.image).toBe("nginx:1.26");
    expect(fresh.metadata.annotations?.["kubernetes.io/change-cause"]).toBe("upgrade to 1.26");
    expect(sets.find((rs) => revision(rs) === "1")!.spec?.replicas).toBe(0);
    const pods = await waitFor(async () => {
      const list = await activePods();
      return list.length === 3 && list.every((p) => p.spec?.containers[0]?.image === "nginx:1.26")
        ? list
        : undefined;
    });
    expect(
      pods.every(
        (p) => p.metadata.labels?.["pod-template-hash"] === fresh.metadata.labels?.["pod-template-hash"],
      ),
    ).toBe(true);
  });

  test("scaling in the middle of a rollout grows both ReplicaSets in proportion", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 4));
    await waitRolledOut("web");
    cluster.kubelet.autoReady = false; // the new pods will not become ready: the rollout stalls
    await edit("web", setImage("nginx:1.26"));
    const stalled = await waitFor(
      async () => {
        const sets = await replicaSets();
        const fresh = sets.find((rs) => revision(rs) === "2");
        const old = sets.find((rs) => revision(rs) === "1");
        return fresh?.spec?.replicas === 2 && old?.spec?.replicas === 3 ? { fresh, old } : undefined;
      },
      { what: "rollout stalled at 3 old + 2 new (5 = 4 + surge 1, 3 = 4 - unavailable 1)" },
    );
    await edit("web", (d) => {
      d.spec!.replicas = 8;
    });
    // 8 + 25% surge = 10 pods allowed; the 5 added are shared 3:2 like the current sizes.
    const grown = await waitFor(
      async () => {
        const sets = await replicaSets();
        const total = sets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
        return total === 10 ? sets : undefined;
      },
      { what: "10 replicas across both" },
    );
    expect(grown).toHaveLength(2);
    expect(grown.find((rs) => rs.metadata.uid === stalled.old.metadata.uid)!.spec?.replicas).toBe(6);
    expect(grown.find((rs) => rs.metadata.uid === stalled.fresh.metadata.uid)!.spec?.replicas).toBe(4);
    // Let the new pods become ready: the rollout finishes at 8 new pods.
    cluster.kubelet.autoReady = true;
    const readyLoop = setInterval(async () => {
      for (const p of await activePods()) {
        if (p.spec?.nodeName && !isReady(p))
          await cluster.kubelet.setReady("default", p.metadata.name!, true).catch(() => {});
      }
    }, 50);
    try {
      await waitFor(
        async () => {
          const x = await deployment("web");
          return x.metadata.generation === 3 && rolledOut(x);
        },
        { what: "rollout finished at 8" },
      );
    } finally {
      clearInterval(readyLoop);
    }
    const pods = await waitFor(async () => {
      const list = await activePods();
      return list.length === 8 ? list : undefined;
    });
    expect(pods.every((p) => p.spec?.containers[0]?.image === "nginx:1.26")).toBe(true);
  });

  test("Recreate removes every old pod before the first new one", async () => {
    cluster = await startTestCluster();
    await cluster.client.create(
      "deployments.apps",
      webDeployment("web", 2, { strategy: { type: "Recreate" } }),
    );
    await waitRolledOut("web");
    let overlap = false;
    const stop = await watchPods((live) => {
      const images = new Set([...live.values()].map((p) => p.spec?.containers[0]?.image));
      if (images.size > 1) overlap = true;
    });
    await edit("web", setImage("nginx:1.26"));
    await waitFor(
      async () => {
        const x = await deployment("web");
        return x.metadata.generation === 2 && rolledOut(x);
      },
      { what: "recreate rollout" },
    );
    stop();
    expect(overlap).toBe(false);
    expect((await activePods()).map((p) => p.spec?.containers[0]?.image)).toEqual([
      "nginx:1.26",
      "nginx:1.26",
    ]);
  });

  test("rollback (kubectl rollout undo) reuses the first ReplicaSet and moves it to revision 3", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 2));
    await waitRolledOut("web");
    const first = (await replicaSets())[0]!;
    await edit("web", setImage("nginx:1.26"));
    await waitFor(async () => {
      const x = await deployment("web");
      return x.metadata.generation === 2 && rolledOut(x);
    });
    // What rollout undo sends: the old template minus the hash label, with Go's artifacts.
    await edit("web", (d) => {
      const template = structuredClone(first.spec!.template!) as Record<string, any>;
      delete template.metadata.labels["pod-template-hash"];
      template.metadata.creationTimestamp = null;
      template.spec.containers[0].resources = {};
      d.spec!.template = template;
    });
    const d = await waitFor(
      async () => {
        const x = await deployment("web");
        return x.metadata.generation === 3 && rolledOut(x) ? x : undefined;
      },
      { what: "rollback" },
    );
    const sets = await replicaSets();
    expect(sets).toHaveLength(2);
    const reused = sets.find((rs) => rs.metadata.uid === first.metadata.uid)!;
    expect(revision(reused)).toBe("3");
    expect(reused.metadata.annotations?.["deployment.kubernetes.io/revision-history"]).toBe("1");
    expect(reused.spec?.replicas).toBe(2);
    expect(revision(d)).toBe("3");
  });

  test("a paused deployment scales but does not roll out until resumed", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 2));
    await waitRolledOut("web");
    await edit("web", (d) => {
      d.spec!.paused = true;
      setImage("nginx:1.26")(d);
      d.spec!.replicas = 3;
    });
    const paused = await waitFor(
      async () => {
        const x = await deployment("web");
        const s = x.status ?? {};
        const scaled =
          s.observedGeneration === x.metadata.generation && s.replicas === 3 && s.availableReplicas === 3;
        return scaled && s.conditions?.some((c) => c.reason === "DeploymentPaused") ? x : undefined;
      },
      { what: "paused deployment scaled" },
    );
    expect(paused.status?.conditions?.find((c) => c.type === "Progressing")?.status).toBe("Unknown");
    expect(await replicaSets()).toHaveLength(1);
    expect((await activePods()).every((p) => p.spec?.containers[0]?.image === "nginx:1.25")).toBe(true);
    await edit("web", (d) => {
      d.spec!.paused = false;
    });
    await waitFor(
      async () => {
        const pods = await activePods();
        const x = await deployment("web");
        return (
          rolledOut(x) &&
          pods.length === 3 &&
          pods.every((p) => p.spec?.containers[0]?.image === "nginx:1.26")
        );
      },
      { what: "rollout after resume" },
    );
    expect(await replicaSets()).toHaveLength(2);
  });

  test("progress deadline exceeded when pods never become ready", async () => {
    cluster = await startTestCluster({ autoReady: false });
    await cluster.client.create("deployments.apps", webDeployment("web", 1, { progressDeadlineSeconds: 1 }));
    const cond = await waitFor(
      async () => {
        const c = (await deployment("web")).status?.conditions?.find((x) => x.type === "Progressing");
        return c?.reason === "ProgressDeadlineExceeded" ? c : undefined;
      },
      { what: "ProgressDeadlineExceeded", timeoutMs: 5000 },
    );
    expect(cond.status).toBe("False");
    expect(cond.message).toMatch(/^ReplicaSet "web-\w+" has timed out progressing\.$/);
    const available = (await deployment("web")).status?.conditions?.find((x) => x.type === "Available");
    expect(available).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
    // Becoming ready later is progress again: the rollout completes.
    const pod = (await activePods())[0]!;
    await cluster.kubelet.setReady("default", pod.metadata.name!, true);
    await waitFor(async () =>
      (await deployment("web")).status?.conditions?.some((c) => c.reason === "NewReplicaSetAvailable"),
    );
  });

  test("minReadySeconds: ready pods count as available only after that long", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 2, { minReadySeconds: 2 }));
    const readyAt = await waitFor(
      async () => {
        const d = await deployment("web");
        return d.status?.readyReplicas === 2 ? Date.now() : undefined;
      },
      { what: "2 ready" },
    );
    const early = await deployment("web");
    expect(early.status?.availableReplicas ?? 0).toBeLessThan(2);
    const rs = (await replicaSets())[0]!;
    expect(rs.spec?.minReadySeconds).toBe(2);
    await waitRolledOut("web", "available after minReadySeconds");
    // Ready times have whole-second precision, so "2 s" may end up to a second early.
    expect(Date.now() - readyAt).toBeGreaterThanOrEqual(900);
    expect((await deployment("web")).status?.availableReplicas).toBe(2);
  });

  test("revisionHistoryLimit keeps that many old ReplicaSets", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 1, { revisionHistoryLimit: 1 }));
    await waitRolledOut("web");
    for (const [i, tag] of ["1.26", "1.27", "1.28"].entries()) {
      await edit("web", setImage(`nginx:${tag}`));
      await waitFor(
        async () => {
          const x = await deployment("web");
          return x.metadata.generation === i + 2 && rolledOut(x);
        },
        { what: `rollout to ${tag}` },
      );
    }
    const sets = await waitFor(
      async () => {
        const list = await replicaSets();
        return list.length === 2 ? list : undefined;
      },
      { what: "old ReplicaSets pruned" },
    );
    expect(sets.map(revision).sort()).toEqual(["3", "4"]);
  });
});

describe("zero replicas", () => {
  test("a deployment scaled to 0 completes, with zero counts left out as Kubernetes does", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", webDeployment("web", 2));
    await waitRolledOut("web");
    await edit("web", (d) => {
      d.spec!.replicas = 0;
    });
    const d = await waitFor(
      async () => {
        const x = await deployment("web");
        const done =
          x.status?.observedGeneration === 2 &&
          x.status.conditions?.some((c) => c.reason === "NewReplicaSetAvailable" && c.lastUpdateTime);
        return done && (await activePods()).length === 0 && !x.status?.replicas ? x : undefined;
      },
      { what: "scaled to zero" },
    );
    expect(d.status?.replicas).toBeUndefined();
    expect(d.status?.availableReplicas).toBeUndefined();
    const rs = (await replicaSets())[0]!;
    expect(rs.status?.replicas).toBe(0);
    expect(rs.status?.readyReplicas).toBeUndefined();
  });
});
