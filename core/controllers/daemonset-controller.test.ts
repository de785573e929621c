import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { DaemonSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import {
  daemonSetManifest,
  listAll,
  startTestCluster,
  TEST_NODE,
  type TestCluster,
} from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

type P = Kube<Pod>;
type Ds = Kube<DaemonSet>;

const daemonSet = daemonSetManifest;

const live = async () =>
  (await listAll<P>(cluster.client, "pods")).filter((p) => !p.metadata.deletionTimestamp);
const ds = () => cluster.client.get<Ds>("daemonsets.apps", "default", "agent");
const setImage = (image: string) =>
  cluster.client.patch("daemonsets.apps", "default", "agent", "json", [
    { op: "replace", path: "/spec/template/spec/containers/0/image", value: image },
  ]);

describe("daemonset controller", () => {
  test("runs one pod on the node, pinned by affinity, with the daemon tolerations", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("daemonsets.apps", daemonSet());
    const status = await waitFor(async () => {
      const x = await ds();
      return x.status?.numberAvailable === 1 ? x.status : undefined;
    });
    expect(status).toMatchObject({
      desiredNumberScheduled: 1,
      currentNumberScheduled: 1,
      numberReady: 1,
      updatedNumberScheduled: 1,
    });
    const pods = await live();
    expect(pods.length).toBe(1);
    const pod = pods[0]!;
    expect(pod.spec?.nodeName).toBe(TEST_NODE);
    expect(pod.metadata.name).toMatch(/^agent-/);
    expect(
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
    ).toEqual([{ matchFields: [{ key: "metadata.name", operator: "In", values: [TEST_NODE] }] }]);
    expect(pod.spec?.tolerations?.map((t) => t.key)).toContain("node.kubernetes.io/not-ready");
    // A deleted pod is replaced.
    await cluster.client.delete("pods", "default", pod.metadata.name!);
    await waitFor(async () => {
      const now = await live();
      return now.length === 1 && now[0]!.metadata.uid !== pod.metadata.uid;
    });
  });

  test("nodeSelector and untolerated taints keep the node out", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("daemonsets.apps", daemonSet({}, { nodeSelector: { role: "logs" } }));
    await waitFor(async () => (await ds()).status?.observedGeneration === 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(await live()).toEqual([]);
    await cluster.client.patch("nodes", "", TEST_NODE, "merge", { metadata: { labels: { role: "logs" } } });
    await waitFor(async () => (await live()).length === 1, { what: "pod after labelling the node" });
    await cluster.client.patch("nodes", "", TEST_NODE, "merge", {
      spec: { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] },
    });
    await waitFor(async () => (await live()).length === 0, { what: "pod gone from the tainted node" });
    expect((await ds()).status?.desiredNumberScheduled ?? 0).toBe(0);
  });

  test("rolling update replaces the pod and records revisions", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("daemonsets.apps", daemonSet());
    await waitFor(async () => (await ds()).status?.numberAvailable === 1);
    const before = (await live())[0]!;
    await setImage("busybox:2");
    const after = await waitFor(async () => {
      const now = await live();
      return now.length === 1 && now[0]!.spec?.containers[0]?.image === "busybox:2" ? now[0] : undefined;
    });
    expect(after.metadata.labels?.["controller-revision-hash"]).not.toBe(
      before.metadata.labels?.["controller-revision-hash"],
    );
    await waitFor(
      async () =>
        (await ds()).status?.updatedNumberScheduled === 1 && (await ds()).status?.numberAvailable === 1,
    );
    const revs = await listAll<KubeObject & { revision?: number }>(
      cluster.client,
      "controllerrevisions.apps",
    );
    expect(revs.map((r) => r.revision).sort()).toEqual([1, 2]);
  });

  test("maxSurge: the new pod starts before the old one goes", async () => {
    cluster = await startTestCluster({});
    await cluster.client.create(
      "daemonsets.apps",
      daemonSet({
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await waitFor(async () => (await ds()).status?.numberAvailable === 1);
    cluster.kubelet.autoReady = false;
    await setImage("busybox:2");
    const both = await waitFor(
      async () => {
        const now = await live();
        return now.length === 2 ? now : undefined;
      },
      { what: "old and new side by side" },
    );
    const fresh = both.find((p) => p.spec?.containers[0]?.image === "busybox:2")!;
    await waitFor(
      async () => (await live()).find((p) => p.metadata.uid === fresh.metadata.uid)?.spec?.nodeName,
    );
    await cluster.kubelet.setReady("default", fresh.metadata.name!, true);
    await waitFor(
      async () => {
        const now = await live();
        return now.length === 1 && now[0]!.metadata.uid === fresh.metadata.uid;
      },
      { what: "old pod gone once the new one is ready" },
    );
  });

  test("a pod orphaned by a cascade=orphan delete is adopted by the next DaemonSet, not doubled", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("daemonsets.apps", daemonSet());
    await waitFor(async () => (await ds()).status?.numberAvailable === 1);
    const [pod] = await live();
    await cluster.client.delete("daemonsets.apps", "default", "agent", { propagationPolicy: "Orphan" });
    await waitFor(async () => !(await live())[0]?.metadata.ownerReferences?.length, { what: "orphaned" });
    await cluster.client.create("daemonsets.apps", daemonSet());
    const set = await waitFor(async () => {
      const x = await ds();
      return x.status?.numberAvailable === 1 ? x : undefined;
    });
    const now = await live();
    expect(now.map((p) => p.metadata.uid)).toEqual([pod!.metadata.uid]);
    expect(now[0]!.metadata.ownerReferences?.[0]?.uid).toBe(set.metadata.uid);
  });

  test("OnDelete and bad specs", async () => {
    cluster = await startTestCluster();
    const err = await cluster.client
      .create(
        "daemonsets.apps",
        daemonSet({
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } },
        }),
      )
      .catch((e) => e);
    expect(err.code).toBe(422);
    expect(err.message).toContain("spec.updateStrategy.rollingUpdate.maxUnavailable");
    await cluster.client.create("daemonsets.apps", daemonSet({ updateStrategy: { type: "OnDelete" } }));
    await waitFor(async () => (await ds()).status?.numberAvailable === 1);
    const e2 = await cluster.client
      .patch("daemonsets.apps", "default", "agent", "merge", {
        spec: { selector: { matchLabels: { app: "x" } } },
      })
      .catch((e) => e);
    expect(e2.code).toBe(422);
    await setImage("busybox:2");
    await waitFor(async () => (await ds()).status?.observedGeneration === 2);
    await new Promise((r) => setTimeout(r, 150));
    expect((await live())[0]?.spec?.containers[0]?.image).toBe("busybox:1");
  });
});
