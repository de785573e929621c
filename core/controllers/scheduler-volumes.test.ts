import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { waitFor } from "../../test/support/env.ts";
import type { Kube } from "./owner-references.ts";
import {
  READ_WRITE_ONCE_POD_CONFLICT,
  UNBOUND_IMMEDIATE_CLAIMS,
  volumeVerdict,
} from "./scheduler-volumes.ts";
import { startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

const claim = (name: string, accessModes: string[], spec: Partial<PersistentVolumeClaim["spec"]> = {}) =>
  ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default" },
    spec: { accessModes, resources: { requests: { storage: "1Mi" } }, ...spec },
  }) as Kube<PersistentVolumeClaim>;

const podUsing = (name: string, claimName: string, extra: Partial<Pod["spec"]> = {}) =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: name },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
      ...extra,
    },
  }) as Kube<Pod>;

const waitFirst: StorageClass = {
  metadata: { name: "local-path", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
  provisioner: "rancher.io/local-path",
  volumeBindingMode: "WaitForFirstConsumer",
};

function lookup(claims: Kube<PersistentVolumeClaim>[]) {
  return {
    claim: (ns: string, name: string) => claims.find((c) => c.metadata.name === name && ns === "default"),
    classes: () => [waitFirst],
  };
}

test("missing, deleting and unbound Immediate claims: no node helps (kube-scheduler's PreFilter wording)", () => {
  expect(volumeVerdict(podUsing("a", "data"), lookup([]), [])).toEqual({
    preFilter: 'persistentvolumeclaim "data" not found',
  });
  const base = claim("data", ["ReadWriteOnce"]);
  const deleting = { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
  expect(volumeVerdict(podUsing("a", "data"), lookup([deleting]), []).preFilter).toBe(
    'persistentvolumeclaim "data" is being deleted',
  );
  const immediate = claim("data", ["ReadWriteOnce"], { storageClassName: "" });
  expect(volumeVerdict(podUsing("a", "data"), lookup([immediate]), [])).toEqual({
    preFilter: UNBOUND_IMMEDIATE_CLAIMS,
  });
  // WaitForFirstConsumer (the default class) binds after scheduling: no reason to wait.
  expect(volumeVerdict(podUsing("a", "data"), lookup([claim("data", ["ReadWriteOnce"])]), [])).toEqual({});
});

test("ReadWriteOncePod: a second pod is refused while the first holds the claim; ReadWriteOnce shares one node", () => {
  const first = podUsing("first", "data", { nodeName: "n" });
  const rwop = lookup([claim("data", ["ReadWriteOncePod"])]);
  expect(volumeVerdict(podUsing("second", "data"), rwop, [first])).toEqual({
    filter: READ_WRITE_ONCE_POD_CONFLICT,
  });
  // The holder itself, a finished holder, or another claim: no conflict.
  expect(volumeVerdict(first, rwop, [first])).toEqual({});
  const done = { ...first, status: { phase: "Succeeded" } } as Kube<Pod>;
  expect(volumeVerdict(podUsing("second", "data"), rwop, [done])).toEqual({});
  expect(
    volumeVerdict(podUsing("second", "data"), lookup([claim("data", ["ReadWriteOnce"])]), [first]),
  ).toEqual({});
});

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

test("the scheduler keeps a second ReadWriteOncePod user Pending with FailedScheduling, and binds it once the first is gone", async () => {
  const c = await startTestCluster({ disabled: ["deployment", "replicaset"] });
  cluster = c;
  await c.client.create("storageclasses.storage.k8s.io", {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    ...waitFirst,
  } as Kube<StorageClass>);
  await c.client.create("persistentvolumeclaims", claim("solo", ["ReadWriteOncePod"]));
  await c.client.create("pods", podUsing("first", "solo"));
  await waitFor(async () => (await c.client.get<Kube<Pod>>("pods", "default", "first")).spec?.nodeName, {
    what: "first pod scheduled",
  });
  await c.client.create("pods", podUsing("second", "solo"));
  const message = `0/1 nodes are available: 1 ${READ_WRITE_ONCE_POD_CONFLICT}.`;
  const pending = await waitFor(
    async () => {
      const p = await c.client.get<Kube<Pod>>("pods", "default", "second");
      const cond = p.status?.conditions?.find((x) => x.type === "PodScheduled");
      return cond?.status === "False" ? p : undefined;
    },
    { what: "second pod unschedulable" },
  );
  expect(pending.spec?.nodeName).toBeUndefined();
  expect(pending.status?.phase).toBe("Pending");
  expect(pending.status?.conditions?.find((x) => x.type === "PodScheduled")).toMatchObject({
    reason: "Unschedulable",
    message,
  });
  // events are written in batches, a moment after they are recorded
  await waitFor(
    async () =>
      ((await c.client.list("events")).items as unknown as { reason: string; message: string }[]).some(
        (e) => e.reason === "FailedScheduling" && e.message === message,
      ),
    { what: "the FailedScheduling event" },
  );

  await c.client.delete("pods", "default", "first", { gracePeriodSeconds: 0 });
  await waitFor(async () => (await c.client.get<Kube<Pod>>("pods", "default", "second")).spec?.nodeName, {
    what: "second pod scheduled once the first is gone",
  });
});
