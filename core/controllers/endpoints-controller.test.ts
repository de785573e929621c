import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Endpoints, Pod } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
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

const deployment = deploymentManifest("web", {
  replicas: 2,
  container: { ports: [{ name: "http", containerPort: 8080 }] },
});

const service: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", labels: { tier: "front" } },
  spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
};

type P = Kube<Pod>;

async function endpoints(): Promise<Kube<Endpoints> | undefined> {
  return cluster.client.tryGet<Kube<Endpoints>>("endpoints", "default", "web");
}

async function slices(): Promise<Kube<EndpointSlice>[]> {
  return listAll<Kube<EndpointSlice>>(cluster.client, "endpointslices.discovery.k8s.io");
}

async function runningPods(n: number): Promise<P[]> {
  return waitFor(
    async () => {
      const pods = (await listAll<P>(cluster.client, "pods")).filter(
        (p) => p.status?.podIP && !p.metadata.deletionTimestamp,
      );
      return pods.length === n ? pods : undefined;
    },
    { what: `${n} running pods` },
  );
}

describe("endpoints controller", () => {
  test("Endpoints and EndpointSlice follow pod readiness, with named target ports resolved", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("deployments.apps", deployment);
    await cluster.client.create("services", service);
    const pods = await runningPods(2);
    const ips = pods.map((p) => p.status!.podIP!).sort();

    const ep = await waitFor(
      async () => {
        const e = await endpoints();
        return e?.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
      },
      { what: "2 ready addresses" },
    );
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets![0]!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(ep.subsets![0]!.addresses!.map((a) => a.ip).sort()).toEqual(ips);
    expect(ep.subsets![0]!.addresses![0]!.targetRef).toMatchObject({ kind: "Pod", namespace: "default" });
    expect(ep.metadata.labels).toEqual({ tier: "front" });

    const [slice] = await slices();
    expect(slice!.addressType).toBe("IPv4");
    expect(slice!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice!.metadata.labels).toMatchObject({
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    expect(slice!.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "Service",
      name: "web",
      controller: true,
    });
    expect(slice!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slice!.endpoints.map((e) => e.addresses[0]).sort()).toEqual(ips);
    expect(
      slice!.endpoints.every((e) => e.conditions?.ready && e.conditions.serving && !e.conditions.terminating),
    ).toBe(true);

    // One pod stops being ready: it moves to notReadyAddresses and ready:false.
    const sick = pods[0]!;
    await cluster.kubelet.setReady("default", sick.metadata.name!, false);
    const after = await waitFor(
      async () => {
        const e = await endpoints();
        return e?.subsets?.[0]?.notReadyAddresses?.length === 1 ? e : undefined;
      },
      { what: "one not-ready address" },
    );
    expect(after.subsets![0]!.notReadyAddresses![0]!.ip).toBe(sick.status!.podIP!);
    expect(after.subsets![0]!.addresses).toHaveLength(1);
    const sickEndpoint = await waitFor(async () => {
      const e = (await slices())[0]!.endpoints.find((x) => x.addresses[0] === sick.status!.podIP);
      return e?.conditions?.ready === false ? e : undefined;
    });
    expect(sickEndpoint.conditions).toEqual({ ready: false, serving: false, terminating: false });
  });

  test("a terminating pod is not ready at once and leaves Endpoints", async () => {
    cluster = await startTestCluster();
    cluster.kubelet.finishDeletions = false;
    await cluster.client.create("deployments.apps", {
      ...deployment,
      spec: { ...(deployment.spec as object), replicas: 1 },
    });
    await cluster.client.create("services", service);
    const [pod] = await runningPods(1);
    await waitFor(async () => (await endpoints())?.subsets?.[0]?.addresses?.length === 1);
    await cluster.client.delete("pods", "default", pod!.metadata.name!);
    const endpoint = await waitFor(
      async () => {
        const e = (await slices())
          .flatMap((s) => s.endpoints)
          .find((x) => x.addresses[0] === pod!.status!.podIP);
        return e?.conditions?.terminating ? e : undefined;
      },
      { what: "terminating endpoint" },
    );
    expect(endpoint.conditions).toEqual({ ready: false, serving: true, terminating: true });
    const ep = await endpoints();
    const listed = (ep?.subsets ?? []).flatMap((s) => [
      ...(s.addresses ?? []),
      ...(s.notReadyAddresses ?? []),
    ]);
    expect(listed.map((a) => a.ip)).not.toContain(pod!.status!.podIP);
  });

  test("deleting the Service removes its Endpoints and slices", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("services", service);
    await waitFor(async () => (await endpoints()) && (await slices()).length === 1, {
      what: "empty endpoints published",
    });
    expect((await endpoints())?.subsets).toBeUndefined();
    expect((await slices())[0]!.endpoints).toEqual([]);
    await cluster.client.delete("services", "default", "web");
    await waitFor(async () => !(await endpoints()) && (await slices()).length === 0, {
      what: "endpoints removed",
    });
  });
  test("endpoints of pods in the Service's subdomain carry their hostname (per-pod DNS)", async () => {
    cluster = await startTestCluster();
    await cluster.client.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db" },
      spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 80 }] },
    });
    for (const [name, subdomain] of [
      ["db-0", "db"],
      ["other", "elsewhere"],
    ]) {
      await cluster.client.create("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, labels: { app: "db" } },
        spec: { hostname: name, subdomain, containers: [{ name: "c", image: "busybox" }] },
      });
    }
    const eps = await waitFor(async () => {
      const list = (await slices()).filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "db");
      const all = list.flatMap((s) => s.endpoints ?? []);
      return all.length === 2 ? all : undefined;
    });
    const byPod = Object.fromEntries(eps.map((e) => [e.targetRef?.name, e.hostname]));
    expect(byPod).toEqual({ "db-0": "db-0", other: undefined });
  });
});
