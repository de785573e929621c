import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Lease } from "kubernetes-types/coordination/v1";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { waitFor } from "../../test/support/env.ts";
import { parseCidr } from "../network/cidr.ts";
import { freeRange } from "./node-ipam-controller.ts";
import { UNREACHABLE_TAINT } from "./node-lifecycle-controller.ts";
import type { Kube } from "./owner-references.ts";
import { startTestCluster, TEST_NODE, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.stop();
});

const joined = (name: string): Kube<Node> => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
  spec: {},
});

async function heartbeat(name: string, when = new Date().toISOString()) {
  const existing = await cluster.client.tryGet<Kube<Lease>>(
    "leases.coordination.k8s.io",
    "kube-node-lease",
    name,
  );
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: when };
  if (existing) await cluster.client.update("leases.coordination.k8s.io", { ...existing, spec });
  else
    await cluster.client.create("leases.coordination.k8s.io", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: "kube-node-lease" },
      spec,
    });
}

describe("node IPAM", () => {
  test("free ranges skip every range in use, the server's own included", () => {
    const cluster = parseCidr("10.80.0.0/12");
    expect(freeRange(cluster, 24, [])).toBe("10.80.0.0/24");
    expect(freeRange(cluster, 24, [parseCidr("10.80.0.0/23")])).toBe("10.80.2.0/24");
    expect(freeRange(parseCidr("10.88.0.0/23"), 24, [parseCidr("10.88.0.0/16")])).toBeUndefined();
  });

  test("the server's node keeps its range; each joined node gets its own /24", async () => {
    cluster = await startTestCluster({ clusterCidr: "10.88.0.0/15", ownPodCidr: "10.88.0.0/16" });
    const own = await waitFor(
      async () => (await cluster.client.tryGet<Kube<Node>>("nodes", "", TEST_NODE))?.spec?.podCIDR,
    );
    expect(own).toBe("10.88.0.0/16");
    await cluster.client.create("nodes", joined("worker-1"));
    await cluster.client.create("nodes", joined("worker-2"));
    const cidrOf = (n: string) =>
      waitFor(async () => (await cluster.client.get<Kube<Node>>("nodes", "", n)).spec?.podCIDR);
    expect([await cidrOf("worker-1"), await cidrOf("worker-2")].sort()).toEqual([
      "10.89.0.0/24",
      "10.89.1.0/24",
    ]);
  });
});

describe("node lifecycle", () => {
  test("a joined node that stops heartbeating turns Unknown and tainted; its pods are evicted; it recovers", async () => {
    cluster = await startTestCluster({ nodeMonitorGracePeriodMs: 600 });
    await cluster.client.create("nodes", joined("worker"));
    await heartbeat("worker");
    await cluster.client.create<Kube<Pod>>("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "on-worker", namespace: "default" },
      spec: {
        nodeName: "worker",
        containers: [{ name: "c", image: "busybox" }],
        tolerations: [
          { key: UNREACHABLE_TAINT, operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 },
        ],
      },
    });
    const tainted = await waitFor(
      async () => {
        const n = await cluster.client.get<Kube<Node>>("nodes", "", "worker");
        return n.spec?.taints?.some((t) => t.key === UNREACHABLE_TAINT && t.effect === "NoExecute")
          ? n
          : undefined;
      },
      { what: "unreachable taint" },
    );
    expect(tainted.spec?.taints?.map((t) => t.effect).sort()).toEqual(["NoExecute", "NoSchedule"]);
    await waitFor(
      async () => {
        const p = await cluster.client.tryGet<Kube<Pod>>("pods", "default", "on-worker");
        return !p || !!p.metadata.deletionTimestamp;
      },
      { what: "pod evicted after its toleration" },
    );
    // the server's own node heartbeats in-process and is never judged by its lease
    const own = await cluster.client.get<Kube<Node>>("nodes", "", TEST_NODE);
    expect(own.spec?.taints?.some((t) => t.key === UNREACHABLE_TAINT) ?? false).toBe(false);

    await heartbeat("worker");
    await waitFor(
      async () => {
        const n = await cluster.client.get<Kube<Node>>("nodes", "", "worker");
        return !n.spec?.taints?.some((t) => t.key === UNREACHABLE_TAINT);
      },
      { what: "taints gone after the heartbeat" },
    );
  });
});
