import { describe, expect, test } from "bun:test";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { VolumeSource } from "../seams/container-runtime.ts";
import { type ClaimSources, resolveClaimVolume } from "./claim-volume.ts";
import { containerMounts } from "./volumes.ts";

function sources(
  claims: Record<string, PersistentVolumeClaim>,
  volumes: Record<string, PersistentVolume>,
): ClaimSources {
  return {
    persistentVolumeClaim: async (ns, name) => claims[`${ns}/${name}`],
    persistentVolume: async (name) => volumes[name],
  };
}

const bound: PersistentVolumeClaim = {
  metadata: { name: "data", namespace: "default" },
  spec: { volumeName: "pv-1" },
  status: { phase: "Bound" },
};

describe("persistentVolumeClaim volumes", () => {
  test("a bound claim mounts its volume's directory", async () => {
    const src = sources(
      { "default/data": bound },
      {
        "pv-1": {
          spec: { hostPath: { path: "/var/lib/minik/storage/pv-1_default_data", type: "DirectoryOrCreate" } },
        },
      },
    );
    expect(await resolveClaimVolume("v", "default", { claimName: "data" }, src)).toEqual({
      type: "hostPath",
      path: "/var/lib/minik/storage/pv-1_default_data",
      hostPathType: "DirectoryOrCreate",
    });
    const local = sources({ "default/data": bound }, { "pv-1": { spec: { local: { path: "/mnt/disk" } } } });
    expect(await resolveClaimVolume("v", "default", { claimName: "data" }, local)).toMatchObject({
      path: "/mnt/disk",
    });
  });

  test("missing, unbound or deleting claims keep the pod in ContainerCreating with a FailedMount message", async () => {
    const cases: [Record<string, PersistentVolumeClaim>, string][] = [
      [{}, 'persistentvolumeclaim "data" not found'],
      [
        { "default/data": { ...bound, spec: {}, status: { phase: "Pending" } } },
        'persistentvolumeclaim "data" is not bound yet',
      ],
      [
        {
          "default/data": {
            ...bound,
            metadata: { ...bound.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" },
          },
        },
        "is being deleted",
      ],
      [{ "default/data": bound }, 'persistentvolume "pv-1" not found'],
    ];
    for (const [claims, message] of cases) {
      const err = await resolveClaimVolume("v", "default", { claimName: "data" }, sources(claims, {})).catch(
        (e) => e,
      );
      expect(err.reason).toBe("ContainerCreating");
      expect(err.message).toContain('MountVolume.SetUp failed for volume "v"');
      expect(err.message).toContain(message);
    }
  });
});

test("a claim the pod mounts readOnly (a ReadOnlyMany claim) is read-only in every container", async () => {
  const src = sources({ "default/data": bound }, { "pv-1": { spec: { local: { path: "/mnt/disk" } } } });
  const shared = await resolveClaimVolume("v", "default", { claimName: "data", readOnly: true }, src);
  expect(shared).toMatchObject({ type: "hostPath", path: "/mnt/disk", readOnly: true });
  const writable = await resolveClaimVolume("v", "default", { claimName: "data" }, src);
  const mount = (source: VolumeSource) =>
    containerMounts(
      { name: "c", volumeMounts: [{ name: "v", mountPath: "/data" }] },
      new Map([["v", source]]),
      [],
    )[0];
  expect(mount(shared)?.readOnly).toBe(true);
  expect(mount(writable)?.readOnly).toBe(false);
});
