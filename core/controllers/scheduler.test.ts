import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import type { Kube } from "./owner-references.ts";
import { podRequests } from "./pods.ts";
import { deletionOrder } from "./replicaset-controller.ts";
import {
  fit,
  matchesNodeSelector,
  pickNode,
  tolerates,
  unschedulableMessage,
  violatesAntiAffinity,
} from "./scheduler.ts";
import { listAll, startTestCluster, TEST_NODE, type TestCluster } from "./testing/test-kit.ts";

// A loaded 2-core CI machine can stretch a rollout well past bun's 5 s default.
setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

type P = Kube<Pod>;

function pod(name: string, requests?: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "busybox", ...(requests ? { resources: { requests } } : {}) }] },
  };
}

async function get(name: string): Promise<P> {
  return cluster.client.get<P>("pods", "default", name);
}

async function scheduledCondition(name: string) {
  return (await get(name)).status?.conditions?.find((c) => c.type === "PodScheduled");
}

async function node(): Promise<Kube<Node>> {
  return waitFor(() => cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE), {
    what: "node registered",
  });
}

describe("node controller", () => {
  test("registers the node with capacity, addresses, nodeInfo and conditions", async () => {
    cluster = await startTestCluster();
    const n = await waitFor(async () => {
      const x = await cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE);
      return x?.status?.conditions?.length ? x : undefined;
    });
    expect(n.status?.capacity).toMatchObject({ cpu: "2", memory: `${4 * 1024 * 1024}Ki`, pods: "110" });
    expect(n.status?.allocatable?.pods).toBe("110");
    expect(n.status?.addresses).toEqual([
      { type: "InternalIP", address: "192.0.2.10" },
      { type: "Hostname", address: TEST_NODE },
    ]);
    expect(n.status?.nodeInfo).toMatchObject({
      containerRuntimeVersion: "crun://1.8.1",
      kubeletVersion: "v1.32.0-minik",
      architecture: "amd64",
    });
    const byType = Object.fromEntries((n.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(byType.MemoryPressure).toMatchObject({ status: "False", reason: "KubeletHasSufficientMemory" });
    expect(byType.DiskPressure?.status).toBe("False");
    expect(byType.PIDPressure?.status).toBe("False");
    expect(n.metadata.labels?.["kubernetes.io/hostname"]).toBe(TEST_NODE);
    // A second reconcile within the heartbeat period writes nothing.
    const before = n.metadata.resourceVersion;
    await cluster.manager.controllers.node!.reconcile(TEST_NODE);
    expect((await node()).metadata.resourceVersion).toBe(before);
  });

  test("--max-pods sets the pods the node takes", async () => {
    cluster = await startTestCluster({ host: { maxPods: 250 } });
    const n = await waitFor(async () => {
      const x = await cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE);
      return x?.status?.capacity ? x : undefined;
    });
    expect(n.status?.capacity?.pods).toBe("250");
    expect(n.status?.allocatable?.pods).toBe("250");
  });

  test("host figures drive pressure conditions", async () => {
    cluster = await startTestCluster({
      host: { memoryAvailableBytes: 10 * 2 ** 20, diskAvailableBytes: 2 ** 30 },
    });
    const n = await waitFor(async () => {
      const x = await cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE);
      return x?.status?.conditions?.length ? x : undefined;
    });
    const byType = Object.fromEntries((n.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.MemoryPressure).toMatchObject({ status: "True", reason: "KubeletHasInsufficientMemory" });
    expect(byType.DiskPressure).toMatchObject({ status: "True", reason: "KubeletHasDiskPressure" });
  });
});

describe("a node without a container runtime", () => {
  test("is NotReady and tainted, so pods stay Pending and say why", async () => {
    cluster = await startTestCluster({ runtimeReady: () => false, autoReady: false });
    const n = await waitFor(async () => {
      const x = await cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE);
      return x?.spec?.taints?.length && x.status?.conditions?.length ? x : undefined;
    });
    expect(n.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "KubeletNotReady",
    });
    // both, as the node lifecycle controller sets them: NoExecute is what evicts bound pods
    expect(n.spec?.taints).toEqual([
      expect.objectContaining({ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }),
      expect.objectContaining({ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }),
    ]);
    await cluster.client.create("pods", pod("stuck"));
    const cond = await waitFor(async () => {
      const c = await scheduledCondition("stuck");
      return c?.status === "False" ? c : undefined;
    });
    expect(cond.message).toBe(
      "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.",
    );
  });
});

describe("scheduler", () => {
  test("binds a pod that fits and records Scheduled", async () => {
    cluster = await startTestCluster({ autoReady: false });
    await node();
    await cluster.client.create("pods", pod("small", { cpu: "500m", memory: "64Mi" }));
    const cond = await waitFor(
      async () => {
        const c = await scheduledCondition("small");
        return c?.status === "True" ? c : undefined;
      },
      { what: "small scheduled" },
    );
    expect(cond.type).toBe("PodScheduled");
    expect((await get("small")).spec?.nodeName).toBe(TEST_NODE);
    const events = await waitFor(async () => {
      const list = await listAll(cluster.client, "events");
      return list.find((e) => e.reason === "Scheduled");
    });
    expect(events.message).toBe(`Successfully assigned default/small to ${TEST_NODE}`);
  });

  test("leaves a pod Pending with the reason when requests do not fit, and binds it once room frees", async () => {
    cluster = await startTestCluster({ autoReady: false });
    await node();
    await cluster.client.create("pods", pod("big", { cpu: "1500m" }));
    await waitFor(async () => (await get("big")).spec?.nodeName, { what: "big bound" });
    await cluster.client.create("pods", pod("second", { cpu: "1", memory: "100Gi" }));
    const cond = await waitFor(
      async () => {
        const c = await scheduledCondition("second");
        return c?.status === "False" ? c : undefined;
      },
      { what: "second unschedulable" },
    );
    expect(cond.reason).toBe("Unschedulable");
    expect(cond.message).toBe("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
    expect((await get("second")).status?.phase).toBe("Pending");
    const failed = await waitFor(async () =>
      (await listAll(cluster.client, "events")).find((e) => e.reason === "FailedScheduling"),
    );
    expect(failed.type).toBe("Warning");

    await cluster.client.create("pods", pod("cpu-only", { cpu: "1" }));
    await waitFor(async () => (await scheduledCondition("cpu-only"))?.status === "False");
    expect((await scheduledCondition("cpu-only"))?.message).toBe(
      "0/1 nodes are available: 1 Insufficient cpu.",
    );

    // Freeing the CPU lets the cpu-only pod in (its memory request fits).
    await cluster.client.delete("pods", "default", "big", { gracePeriodSeconds: 0 });
    await waitFor(async () => (await get("cpu-only")).spec?.nodeName === TEST_NODE, {
      what: "cpu-only bound after room freed",
    });
    expect((await get("second")).spec?.nodeName).toBeUndefined();
  });

  test("a burst is placed in one pass without overcommitting the node", async () => {
    cluster = await startTestCluster({ autoReady: false });
    await node();
    // 2 CPUs allocatable: four pods of 500m fit, the other two must wait
    const names = Array.from({ length: 6 }, (_, i) => `burst-${i}`);
    await Promise.all(names.map((n) => cluster.client.create("pods", pod(n, { cpu: "500m" }))));
    const settled = await waitFor(
      async () => {
        const all = await Promise.all(names.map(get));
        const decided = all.filter(
          (p) => p.spec?.nodeName || p.status?.conditions?.some((c) => c.type === "PodScheduled"),
        );
        return decided.length === names.length ? all : undefined;
      },
      { what: "every burst pod bound or marked unschedulable" },
    );
    expect(settled.filter((p) => p.spec?.nodeName === TEST_NODE)).toHaveLength(4);
    const waiting = settled.filter((p) => !p.spec?.nodeName);
    expect(waiting).toHaveLength(2);
    for (const p of waiting)
      expect(p.status?.conditions?.find((c) => c.type === "PodScheduled")).toMatchObject({
        status: "False",
        reason: "Unschedulable",
        message: "0/1 nodes are available: 1 Insufficient cpu.",
      });
  });

  test("a cordoned node takes no new pods; uncordon lets them in", async () => {
    cluster = await startTestCluster({ autoReady: false });
    const n = await node();
    await cluster.client.update("nodes", { ...n, spec: { ...n.spec, unschedulable: true } });
    const tainted = await waitFor(
      async () => {
        const x = await node();
        return x.spec?.taints?.some(
          (t) => t.key === "node.kubernetes.io/unschedulable" && t.effect === "NoSchedule",
        )
          ? x
          : undefined;
      },
      { what: "unschedulable taint" },
    );
    await cluster.client.create("pods", pod("waiting"));
    const cond = await waitFor(async () => {
      const c = await scheduledCondition("waiting");
      return c?.status === "False" ? c : undefined;
    });
    expect(cond.message).toBe("0/1 nodes are available: 1 node(s) were unschedulable.");
    await cluster.client.update("nodes", { ...tainted, spec: { ...tainted.spec, unschedulable: false } });
    await waitFor(async () => (await get("waiting")).spec?.nodeName === TEST_NODE, {
      what: "bound after uncordon",
    });
    expect((await node()).spec?.taints ?? []).toEqual([]);
  });
});

describe("fit (kube-scheduler's filters)", () => {
  const node: Node = {
    metadata: { name: "n1", labels: { "kubernetes.io/os": "linux", disk: "ssd" } },
    spec: { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] },
    status: { allocatable: { cpu: "2", memory: "1Gi", pods: "3" } },
  };
  const tolerating = {
    tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
  };
  const spec = (extra: object = {}) =>
    ({ spec: { containers: [{ name: "c" }], ...tolerating, ...extra } }) as Pod;

  test("taints need a matching toleration", () => {
    expect(fit({ spec: { containers: [{ name: "c" }] } }, node, [])).toEqual([
      "node(s) had untolerated taint {dedicated: db}",
    ]);
    expect(fit(spec(), node, [])).toEqual([]);
    expect(tolerates({ operator: "Exists" }, { key: "anything", effect: "NoExecute" })).toBe(true);
    expect(
      tolerates(
        { key: "dedicated", operator: "Equal", value: "web" },
        { key: "dedicated", value: "db", effect: "NoSchedule" },
      ),
    ).toBe(false);
  });

  test("nodeSelector and required node affinity", () => {
    expect(fit(spec({ nodeSelector: { disk: "hdd" } }), node, [])).toEqual([
      "node(s) didn't match Pod's node affinity/selector",
    ]);
    const affinity = (operator: string, values: string[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator, values }] }],
          },
        },
      },
    });
    expect(matchesNodeSelector(spec(affinity("In", ["ssd", "nvme"])), node)).toBe(true);
    expect(matchesNodeSelector(spec(affinity("NotIn", ["ssd"])), node)).toBe(false);
  });

  test("hostPorts may not clash", () => {
    const withPort = (uid: string) =>
      ({
        metadata: { uid },
        spec: { containers: [{ name: "c", ports: [{ containerPort: 80, hostPort: 8080 }] }], ...tolerating },
      }) as Pod;
    expect(fit(withPort("b"), node, [withPort("a")])).toEqual([
      "node(s) didn't have free ports for the requested pod ports (8080/TCP is in use by pod default/)",
    ]);
  });

  test("a hostNetwork pod holds its containerPorts; a sidecar's hostPort counts", () => {
    const hostNet = (uid: string, name: string) =>
      ({
        metadata: { uid, name, namespace: "ops" },
        spec: {
          hostNetwork: true,
          containers: [{ name: "c", ports: [{ containerPort: 9100 }] }],
          ...tolerating,
        },
      }) as Pod;
    expect(fit(hostNet("b", "b"), node, [hostNet("a", "exporter")])).toEqual([
      "node(s) didn't have free ports for the requested pod ports (9100/TCP is in use by pod ops/exporter)",
    ]);
    const sidecar = {
      metadata: { uid: "c", name: "side", namespace: "ops" },
      spec: {
        ...tolerating,
        initContainers: [
          { name: "s", restartPolicy: "Always", ports: [{ containerPort: 1, hostPort: 9100 }] },
        ],
        containers: [{ name: "c" }],
      },
    } as Pod;
    expect(fit(hostNet("b", "b"), node, [sidecar])[0]).toContain("9100/TCP is in use by pod ops/side");
    expect(fit(hostNet("b", "b"), node, [])).toEqual([]);
  });

  test("requests add up; init containers count by their largest; pods are counted", () => {
    const req = (uid: string, cpu: string, init?: string) =>
      ({
        metadata: { uid },
        spec: {
          ...tolerating,
          containers: [{ name: "c", resources: { requests: { cpu } } }],
          initContainers: init ? [{ name: "i", resources: { requests: { cpu: init } } }] : undefined,
        },
      }) as Pod;
    expect(fit(req("b", "1"), node, [req("a", "1")])).toEqual([]);
    expect(fit(req("b", "100m", "1500m"), node, [req("a", "1")])).toEqual(["Insufficient cpu"]);
    expect(fit(req("d", "1m"), node, [req("a", "1m"), req("b", "1m"), req("c", "1m")])).toEqual([
      "Too many pods",
    ]);
    expect(unschedulableMessage(["Insufficient memory", "Insufficient cpu"])).toBe(
      "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
    );
  });

  test("sidecars add to the app containers; an init container runs beside the sidecars before it", () => {
    const cpu = (name: string, value: string, sidecar = false) => ({
      name,
      resources: { requests: { cpu: value } },
      ...(sidecar ? { restartPolicy: "Always" } : {}),
    });
    const pod = (initContainers: object[]) =>
      ({ spec: { containers: [cpu("app", "300m")], initContainers } }) as unknown as Pod;
    // 300m app + 200m sidecar
    expect(podRequests(pod([cpu("proxy", "200m", true)])).cpuMillis).toBe(500);
    // init peak: 200m sidecar + 600m migration = 800m > 500m
    expect(podRequests(pod([cpu("proxy", "200m", true), cpu("migrate", "600m")])).cpuMillis).toBe(800);
    // an init container before the sidecar runs alone: max(600m, 300m + 200m)
    expect(podRequests(pod([cpu("migrate", "600m"), cpu("proxy", "200m", true)])).cpuMillis).toBe(600);
  });
});

describe("pod deletion order (ReplicaSet scale-down)", () => {
  const p = (name: string, extra: Partial<Pod> & { ready?: boolean; created?: string }) =>
    ({
      metadata: {
        name,
        creationTimestamp: extra.created ?? "2026-01-01T00:00:00Z",
        annotations: extra.metadata?.annotations,
      },
      spec: { containers: [], nodeName: extra.spec?.nodeName },
      status: {
        phase: extra.status?.phase ?? "Running",
        conditions: extra.ready
          ? [{ type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" }]
          : [],
      },
    }) as Pod;
  test("unscheduled < pending < not ready < ready; cheaper first; newer first", () => {
    const pods = [
      p("ready-old", {
        ready: true,
        spec: { nodeName: "n", containers: [] },
        created: "2026-01-01T00:00:00Z",
      }),
      p("ready-new", {
        ready: true,
        spec: { nodeName: "n", containers: [] },
        created: "2026-01-02T00:00:00Z",
      }),
      p("ready-costly", {
        ready: true,
        spec: { nodeName: "n", containers: [] },
        created: "2026-01-03T00:00:00Z",
        metadata: { annotations: { "controller.kubernetes.io/pod-deletion-cost": "100" } },
      }),
      p("not-ready", { spec: { nodeName: "n", containers: [] } }),
      p("pending", { spec: { nodeName: "n", containers: [] }, status: { phase: "Pending" } }),
      p("unscheduled", { status: { phase: "Pending" } }),
    ];
    expect(pods.sort(deletionOrder).map((x) => x.metadata!.name)).toEqual([
      "unscheduled",
      "pending",
      "not-ready",
      "ready-new",
      "ready-old",
      "ready-costly",
    ]);
  });
});

describe("several nodes", () => {
  test("the least loaded feasible node wins; a tie goes to the server's own node", () => {
    const v = (name: string, load: number, reasons: string[] = []) => ({ name, load, reasons });
    expect(pickNode([v("server", 2), v("worker", 1)], "server")).toBe("worker");
    expect(pickNode([v("worker", 1), v("server", 1)], "server")).toBe("server");
    expect(pickNode([v("server", 0, ["Insufficient cpu"]), v("worker", 5)], "server")).toBe("worker");
    expect(pickNode([v("server", 0, ["Insufficient cpu"])], "server")).toBeUndefined();
  });

  test("required anti-affinity on the hostname keeps matching pods apart", () => {
    const withLabels = (name: string, labels: Record<string, string>, ns = "default"): Pod => ({
      metadata: { name, namespace: ns, uid: name, labels },
      spec: { containers: [] },
    });
    const web: Pod = {
      ...withLabels("web-2", { app: "web" }),
      spec: {
        containers: [],
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } },
            ],
          },
        },
      },
    };
    expect(violatesAntiAffinity(web, [withLabels("web-1", { app: "web" })])).toBe(true);
    expect(violatesAntiAffinity(web, [withLabels("db", { app: "db" })])).toBe(false);
    expect(violatesAntiAffinity(web, [withLabels("web-x", { app: "web" }, "other")])).toBe(false);
  });

  test("the message counts each reason over every node", () => {
    expect(
      unschedulableMessage(["Insufficient cpu", "Insufficient cpu", "node(s) were unschedulable"], 2),
    ).toBe("0/2 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable.");
  });
});
