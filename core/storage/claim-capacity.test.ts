import { describe, expect, test } from "bun:test";
import type { Registry } from "../registry/registry.ts";
import { useRegistry } from "../registry/testing/test-fixture.ts";
import { createFakeLocalVolumes } from "../seams/testing/fake-local-volumes.ts";
import { claimCapacityAdmission } from "./claim-capacity.ts";

const host = createFakeLocalVolumes();
host.free = 2 ** 30;
let registry: Registry;
const fx = useRegistry({
  admit: [
    claimCapacityAdmission(
      () => host,
      () => registry,
    ),
  ],
});

const claim = (name: string, storage: string, storageClassName?: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage } },
    ...(storageClassName !== undefined ? { storageClassName } : {}),
  },
});

describe("claim capacity admission", () => {
  test("a local-path claim larger than the free disk is a 422 naming the field; others pass", async () => {
    registry = fx.registry;
    await registry.create("storageclasses.storage.k8s.io", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: "local-path",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "rancher.io/local-path",
    });
    for (const cls of ["local-path", undefined]) {
      const err = await registry
        .create("persistentvolumeclaims", claim(`big-${cls ?? "default"}`, "5Gi", cls))
        .catch((e) => e);
      expect(err.code).toBe(422);
      expect(err.message).toContain(
        'spec.resources[storage]: Invalid value: "5Gi": exceeds the 1073741824 bytes free',
      );
    }
    await registry.create("persistentvolumeclaims", claim("small", "500Mi"));
    await registry.create("persistentvolumeclaims", claim("elsewhere", "5Gi", "nfs"));
    // nothing half-created
    expect((await registry.list("persistentvolumeclaims")).items.map((c) => c.metadata.name).sort()).toEqual([
      "elsewhere",
      "small",
    ]);
  });
});
