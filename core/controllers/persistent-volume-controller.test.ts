import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { waitFor } from "../../test/support/env.ts";
import type { KubeObject } from "../object.ts";
import { createFakeLocalVolumes, type FakeLocalVolumes } from "../seams/testing/fake-local-volumes.ts";
import type { Kube } from "./owner-references.ts";
import { listAll, startTestCluster, type TestCluster } from "./testing/test-kit.ts";

setDefaultTimeout(30_000);

let cluster: TestCluster;
let host: FakeLocalVolumes;
afterEach(async () => {
  await cluster?.stop();
});

type Claim = Kube<PersistentVolumeClaim>;
type Volume = Kube<PersistentVolume>;

const claim = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...spec },
});

const podUsing = (name: string, claimName: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    containers: [{ name: "c", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
    volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
  },
});

async function start(): Promise<void> {
  host = createFakeLocalVolumes();
  cluster = await startTestCluster({ localVolumes: host });
}

const getClaim = (name: string) => cluster.client.tryGet<Claim>("persistentvolumeclaims", "default", name);

describe("persistent volume controller", () => {
  test("ships local-path as the default class and gives class-less claims to it", async () => {
    await start();
    const sc = await waitFor(() =>
      cluster.client.tryGet<Kube<StorageClass>>("storageclasses.storage.k8s.io", "", "local-path"),
    );
    expect(sc.provisioner).toBe("rancher.io/local-path");
    expect(sc.volumeBindingMode).toBe("WaitForFirstConsumer");
    expect(sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    await cluster.client.create("persistentvolumeclaims", claim("data"));
    const c = await waitFor(async () => {
      const x = await getClaim("data");
      return x?.spec?.storageClassName === "local-path" ? x : undefined;
    });
    expect(c.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
  });

  test("WaitForFirstConsumer: Pending until a pod is scheduled, then provisioned, bound and protected", async () => {
    await start();
    await waitFor(() => cluster.client.tryGet("storageclasses.storage.k8s.io", "", "local-path"));
    await cluster.client.create("persistentvolumeclaims", claim("data"));
    await waitFor(async () => (await getClaim("data"))?.spec?.storageClassName);
    await new Promise((r) => setTimeout(r, 200));
    expect((await getClaim("data"))?.status?.phase).toBe("Pending");
    expect(host.dirs.size).toBe(0);

    await cluster.client.create("pods", podUsing("user", "data"));
    const bound = await waitFor(async () => {
      const x = await getClaim("data");
      return x?.status?.phase === "Bound" ? x : undefined;
    });
    const pv = await cluster.client.get<Volume>("persistentvolumes", "", bound.spec!.volumeName!);
    expect(pv.metadata.name).toBe(`pvc-${bound.metadata.uid}`);
    expect(pv.spec?.claimRef?.uid).toBe(bound.metadata.uid);
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe("Delete");
    expect(pv.spec?.hostPath?.path).toBe(`${host.root}/${pv.metadata.name}_default_data`);
    expect(bound.status?.capacity?.storage).toBe("1Gi");
    expect(bound.status?.accessModes).toEqual(["ReadWriteOnce"]);
    await waitFor(
      async () =>
        (await cluster.client.get<Volume>("persistentvolumes", "", pv.metadata.name!)).status?.phase ===
        "Bound",
    );
    expect([...host.dirs]).toEqual([pv.spec!.hostPath!.path]);

    // In use: deleting the claim only marks it.
    await cluster.client.delete("persistentvolumeclaims", "default", "data");
    await new Promise((r) => setTimeout(r, 200));
    expect((await getClaim("data"))?.metadata.deletionTimestamp).toBeDefined();
    expect(host.dirs.size).toBe(1);

    // The pod goes: the claim goes, the volume is released and (Delete) removed with its directory.
    await cluster.client.delete("pods", "default", "user", { gracePeriodSeconds: 0 });
    await waitFor(async () => !(await getClaim("data")), { what: "claim gone" });
    await waitFor(async () => !(await cluster.client.tryGet("persistentvolumes", "", pv.metadata.name!)), {
      what: "volume gone",
    });
    expect(host.dirs.size).toBe(0);
  });

  test("reclaim Retain keeps a Released volume and its directory", async () => {
    await start();
    await cluster.client.create("storageclasses.storage.k8s.io", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "keep" },
      provisioner: "rancher.io/local-path",
      reclaimPolicy: "Retain",
      volumeBindingMode: "Immediate",
    });
    await cluster.client.create("persistentvolumeclaims", claim("kept", { storageClassName: "keep" }));
    const bound = await waitFor(async () => {
      const x = await getClaim("kept");
      return x?.status?.phase === "Bound" ? x : undefined;
    });
    await cluster.client.delete("persistentvolumeclaims", "default", "kept");
    const pv = await waitFor(async () => {
      const v = await cluster.client.get<Volume>("persistentvolumes", "", bound.spec!.volumeName!);
      return v.status?.phase === "Released" ? v : undefined;
    });
    expect(host.dirs.has(pv.spec!.hostPath!.path)).toBe(true);
  });

  test("a static volume binds to a fitting claim by class, access mode and size", async () => {
    await start();
    const pv = (name: string, size: string, modes: string[]) => ({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name },
      spec: {
        capacity: { storage: size },
        accessModes: modes,
        storageClassName: "manual",
        hostPath: { path: `/srv/${name}` },
      },
    });
    await cluster.client.create("persistentvolumes", pv("small", "100Mi", ["ReadWriteOnce"]));
    await cluster.client.create("persistentvolumes", pv("rox", "5Gi", ["ReadOnlyMany"]));
    await cluster.client.create("persistentvolumes", pv("big", "5Gi", ["ReadWriteOnce", "ReadWriteMany"]));
    await cluster.client.create("persistentvolumeclaims", claim("want", { storageClassName: "manual" }));
    const bound = await waitFor(async () => {
      const x = await getClaim("want");
      return x?.status?.phase === "Bound" ? x : undefined;
    });
    expect(bound.spec?.volumeName).toBe("big");
    const small = await cluster.client.get<Volume>("persistentvolumes", "", "small");
    expect(small.status?.phase).toBe("Available");
    expect(small.metadata.finalizers).toEqual(["kubernetes.io/pv-protection"]);
    // Retain (the default for static volumes): the volume stays Released after the claim goes.
    await cluster.client.delete("persistentvolumeclaims", "default", "want");
    await waitFor(
      async () =>
        (await cluster.client.get<Volume>("persistentvolumes", "", "big")).status?.phase === "Released",
    );
    // A deleted volume that is not bound loses pv-protection and goes.
    await cluster.client.delete("persistentvolumes", "", "big");
    await waitFor(async () => !(await cluster.client.tryGet("persistentvolumes", "", "big")));

    // A claim pre-bound to a volume whose access modes do not cover its own stays Pending.
    await cluster.client.create(
      "persistentvolumeclaims",
      claim("pinned", { storageClassName: "manual", volumeName: "rox" }),
    );
    await waitFor(async () =>
      (await listAll<KubeObject & { reason: string; message: string }>(cluster.client, "events")).some(
        (e) =>
          e.reason === "VolumeMismatch" &&
          e.message === 'Cannot bind to requested volume "rox": incompatible accessMode',
      ),
    );
    expect((await getClaim("pinned"))?.status?.phase).toBe("Pending");
    expect((await cluster.client.get<Volume>("persistentvolumes", "", "rox")).spec?.claimRef).toBeUndefined();
  });

  test("a claim larger than the disk stays Pending with ProvisioningFailed", async () => {
    await start();
    host.free = 2 ** 30;
    await cluster.client.create(
      "persistentvolumeclaims",
      claim("huge", { resources: { requests: { storage: "5Gi" } } }),
    );
    await cluster.client.create("pods", podUsing("user", "huge"));
    const ev = await waitFor(async () =>
      (
        await cluster.client.list<KubeObject & { reason?: string; message?: string }>("events", {
          namespace: "default",
        })
      ).items.find((e) => e.reason === "ProvisioningFailed"),
    );
    expect(ev.message).toContain("requested 5Gi");
    expect((await getClaim("huge"))?.status?.phase).toBe("Pending");
    expect(host.dirs.size).toBe(0);
  });
});

describe("storage API rules", () => {
  test("claims: access modes and a storage request are required; spec is immutable", async () => {
    await start();
    const bad = claim("bad", { accessModes: ["ReadWriteSometimes"], resources: {} });
    const err = await cluster.client.create("persistentvolumeclaims", bad).catch((e) => e);
    expect(err.code).toBe(422);
    expect(err.message).toContain("spec.accessModes");
    expect(err.message).toContain("spec.resources[storage]");
    await cluster.client.create("persistentvolumeclaims", claim("ok", { storageClassName: "x" }));
    const ok = await cluster.client.get<Claim>("persistentvolumeclaims", "default", "ok");
    const err2 = await cluster.client
      .update("persistentvolumeclaims", { ...ok, spec: { ...ok.spec, accessModes: ["ReadWriteMany"] } })
      .catch((e) => e);
    expect(err2.code).toBe(422);
    expect(err2.message).toContain("spec is immutable after creation");
  });

  test("a claim name that would escape the storage root is refused", async () => {
    await start();
    const err = await cluster.client.create("persistentvolumeclaims", claim("../../etc")).catch((e) => e);
    expect(err.code).toBe(422);
  });
});
