import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import type { LocalVolumes } from "../seams/local-volumes.ts";
import { localVolumeDirName } from "../seams/volume-dir.ts";
import {
  accessModesFit,
  bestVolume,
  claimClass,
  claimsOf,
  defaultClass,
  podHoldsClaims,
  requestedBytes,
} from "../storage/claim-matching.ts";
import {
  BOUND_BY_CONTROLLER_ANNOTATION,
  DEFAULT_CLASS_ANNOTATION,
  LOCAL_PATH_CLASS,
  LOCAL_PATH_PROVISIONER,
  PROVISIONED_BY_ANNOTATION,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  SELECTED_NODE_ANNOTATION,
} from "../storage/storage-names.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

type Claim = Kube<PersistentVolumeClaim>;
type Volume = Kube<PersistentVolume>;
type Class = Kube<StorageClass>;

export interface PersistentVolumeControllerOptions {
  nodeName: string;
  /** The node's volume directories; without them nothing is provisioned (static volumes still bind). */
  volumes?: LocalVolumes;
}

/**
 * kube-controller-manager's persistent-volume binder, pvc/pv-protection and k3s's local-path
 * provisioner in one level-triggered loop. Keys: `claim:<ns>/<name>`, `volume:<name>`, `class:local-path`.
 *
 * - A claim without a class gets the default class; a claim binds to the smallest fitting
 *   Available volume; a claim of the local-path class is provisioned (a directory per claim) at
 *   once for Immediate classes, or when a pod using it is scheduled (WaitForFirstConsumer).
 * - A volume whose claim is gone is Released; reclaim policy Delete removes the directory
 *   (local-path volumes) and the PV, Retain keeps both.
 * - The protection finalizers come off once no unfinished pod uses the claim, and once the
 *   volume is no longer Bound.
 */
export function createPersistentVolumeController(
  ctx: ControllerContext,
  options: PersistentVolumeControllerOptions,
): Controller {
  const { client, informers } = ctx;
  const claims = informers.for<Claim>("persistentvolumeclaims");
  const volumes = informers.for<Volume>("persistentvolumes");
  const classes = informers.for<Class>("storageclasses.storage.k8s.io");
  const pods = informers.for<Kube<Pod>>("pods");
  const recorder = ctx.events("persistentvolume-controller");

  const controller = createController({
    name: "persistentvolume",
    log: ctx.log,
    reconcile,
    resync: {
      everyMs: 15_000,
      keys: () => [
        ...claims.list().map((c) => `claim:${keyOf(c)}`),
        ...volumes.list().map((v) => `volume:${v.metadata.name}`),
      ],
    },
  });
  const enqueueClaim = (ns: string | undefined, name: string) => controller.enqueue(`claim:${ns}/${name}`);

  claims.onEvent((e) => {
    enqueueClaim(e.object.metadata.namespace, e.object.metadata.name!);
    if (e.object.spec?.volumeName) controller.enqueue(`volume:${e.object.spec.volumeName}`);
  });
  volumes.onEvent((e) => {
    controller.enqueue(`volume:${e.object.metadata.name}`);
    const ref = e.object.spec?.claimRef;
    if (ref?.name) enqueueClaim(ref.namespace, ref.name);
  });
  classes.onEvent(() => {
    for (const c of claims.list())
      if (c.status?.phase !== "Bound") enqueueClaim(c.metadata.namespace, c.metadata.name!);
  });
  pods.onEvent((e) => {
    for (const pod of e.old ? [e.old, e.object] : [e.object])
      for (const name of claimsOf(pod)) enqueueClaim(pod.metadata.namespace, name);
  });

  return {
    ...controller,
    start() {
      controller.start();
      if (options.volumes) controller.enqueue(`class:${LOCAL_PATH_CLASS}`);
    },
  };

  async function reconcile(key: string) {
    const i = key.indexOf(":");
    const [kind, rest] = [key.slice(0, i), key.slice(i + 1)];
    if (kind === "claim") return reconcileClaim(rest);
    if (kind === "volume") return reconcileVolume(rest);
    if (kind === "class") return ensureLocalPathClass();
  }

  /** The built-in class, marked default unless another default exists (as k3s ships it). */
  async function ensureLocalPathClass() {
    if (classes.get("", LOCAL_PATH_CLASS)) return;
    const others = defaultClass(classes.list());
    const created = await client.create<Class>("storageclasses.storage.k8s.io", {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: LOCAL_PATH_CLASS,
        ...(others ? {} : { annotations: { [DEFAULT_CLASS_ANNOTATION]: "true" } }),
      },
      provisioner: LOCAL_PATH_PROVISIONER,
      reclaimPolicy: "Delete",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    classes.observe(created);
  }

  function usersOf(claim: Claim): Kube<Pod>[] {
    return pods
      .list(claim.metadata.namespace)
      .filter((p) => podHoldsClaims(p) && claimsOf(p).includes(claim.metadata.name!));
  }

  async function reconcileClaim(key: string) {
    const { namespace, name } = splitKey(key);
    const claim = claims.get(namespace, name);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp) return releaseClaimProtection(claim);
    if (claim.spec?.storageClassName === undefined || claim.spec.storageClassName === null) {
      // Retroactive default class assignment (Kubernetes 1.28+).
      const def = defaultClass(classes.list());
      if (def) await writeClaim({ ...claim, spec: { ...claim.spec, storageClassName: def.metadata.name } });
      return;
    }
    if (claim.spec?.volumeName) return syncBoundClaim(claim);
    const volume = bestVolume(volumes.list(), claim);
    if (volume) return bind(claim, volume);
    const cls = classes.get("", claimClass(claim));
    if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) return;
    if (!options.volumes) return;
    if (cls.volumeBindingMode === "WaitForFirstConsumer") {
      const scheduled = usersOf(claim).find((p) => p.spec?.nodeName);
      if (!scheduled) {
        if (usersOf(claim).length === 0)
          recorder.record(
            claim,
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
          );
        return;
      }
      if (claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION] !== scheduled.spec!.nodeName) {
        await writeClaim({
          ...claim,
          metadata: {
            ...claim.metadata,
            annotations: {
              ...claim.metadata.annotations,
              [SELECTED_NODE_ANNOTATION]: scheduled.spec!.nodeName!,
            },
          },
        });
        return;
      }
    }
    await provision(claim, cls);
  }

  async function provision(claim: Claim, cls: Class) {
    const host = options.volumes!;
    const pvName = `pvc-${claim.metadata.uid}`;
    if (volumes.get("", pvName)) return; // made already; binding follows its event
    const want = requestedBytes(claim);
    const free = await host.availableBytes();
    if (want > free) {
      recorder.record(
        claim,
        "Warning",
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${cls.metadata.name}": requested ${claim.spec?.resources?.requests?.storage} but only ${free} bytes are free`,
      );
      return { requeueAfterMs: 30_000 };
    }
    const ns = claim.metadata.namespace!;
    recorder.record(
      claim,
      "Normal",
      "Provisioning",
      `External provisioner is provisioning volume for claim "${ns}/${claim.metadata.name}"`,
    );
    const path = await host.create(localVolumeDirName(pvName, ns, claim.metadata.name!));
    const pv: Volume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: pvName, annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: String(claim.spec?.resources?.requests?.storage) },
        accessModes: [...(claim.spec?.accessModes ?? [])],
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? "Delete",
        storageClassName: cls.metadata.name,
        volumeMode: claim.spec?.volumeMode ?? "Filesystem",
        hostPath: { path, type: "DirectoryOrCreate" },
        claimRef: {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          namespace: ns,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
        },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "kubernetes.io/hostname", operator: "In", values: [options.nodeName] },
                ],
              },
            ],
          },
        },
      },
    };
    const created = await client.create<Volume>("persistentvolumes", pv);
    volumes.observe(created);
    recorder.record(claim, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`);
    return bind(claim, created);
  }

  async function bind(claim: Claim, volume: Volume) {
    const ref = volume.spec?.claimRef;
    if (!ref?.uid) {
      const updated = await client.update<Volume>("persistentvolumes", {
        ...volume,
        metadata: {
          ...volume.metadata,
          annotations: { ...volume.metadata.annotations, [BOUND_BY_CONTROLLER_ANNOTATION]: "yes" },
        },
        spec: {
          ...volume.spec,
          claimRef: {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            namespace: claim.metadata.namespace,
            name: claim.metadata.name,
            uid: claim.metadata.uid,
            resourceVersion: claim.metadata.resourceVersion,
          },
        },
      });
      volumes.observe(updated);
      volume = updated;
    }
    await setVolumePhase(volume, "Bound");
    const bound = await writeClaim({
      ...claim,
      metadata: {
        ...claim.metadata,
        annotations: {
          ...claim.metadata.annotations,
          [BOUND_BY_CONTROLLER_ANNOTATION]: "yes",
          "pv.kubernetes.io/bound-by-controller": "yes",
        },
      },
      spec: { ...claim.spec, volumeName: volume.metadata.name },
    });
    await syncBoundClaim(bound);
  }

  /** A claim naming its volume: Bound with the volume's capacity, or Lost when the volume is gone. */
  async function syncBoundClaim(claim: Claim) {
    const volume = volumes.get("", claim.spec!.volumeName!);
    const ref = volume?.spec?.claimRef;
    let status: PersistentVolumeClaim["status"];
    if (!volume) status = { phase: claim.status?.phase === "Bound" ? "Lost" : "Pending" };
    else if (ref?.uid && ref.uid !== claim.metadata.uid) status = { phase: "Lost" };
    else if (!ref?.uid && !accessModesFit(volume, claim)) {
      // Pre-bound by the user to a volume that cannot serve it: say so and stay Pending.
      status = { phase: "Pending" };
      recorder.record(
        claim,
        "Warning",
        "VolumeMismatch",
        `Cannot bind to requested volume "${volume.metadata.name}": incompatible accessMode`,
      );
    } else if (!ref?.uid)
      return bind(claim, volume); // pre-bound by the user: finish the volume side
    else
      status = {
        phase: "Bound",
        accessModes: [...(volume.spec?.accessModes ?? [])],
        capacity: { ...volume.spec?.capacity },
      };
    if (deepEqual(status, claim.status)) return;
    const updated = await client.updateStatus<Claim>("persistentvolumeclaims", { ...claim, status });
    claims.observe(updated);
  }

  async function releaseClaimProtection(claim: Claim) {
    if (!claim.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)) return;
    if (usersOf(claim).length) return; // a pod still uses it: wait for the pod event
    await writeClaim({
      ...claim,
      metadata: {
        ...claim.metadata,
        finalizers: claim.metadata.finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER),
      },
    });
  }

  async function reconcileVolume(name: string) {
    const volume = volumes.get("", name);
    if (!volume) return;
    const ref = volume.spec?.claimRef;
    const claim = ref?.name ? claims.get(ref.namespace ?? "", ref.name) : undefined;
    const claimed = claim && (!ref?.uid || ref.uid === claim.metadata.uid);
    if (!ref) await setVolumePhase(volume, "Available");
    else if (claimed && claim.spec?.volumeName === name) await setVolumePhase(volume, "Bound");
    else if (claimed) {
      enqueueClaim(claim.metadata.namespace, claim.metadata.name!); // the claim side is pending
      return;
    } else if (ref.uid) {
      // Its claim is gone: released, then reclaimed.
      const released = await setVolumePhase(
        volume,
        volume.status?.phase === "Failed" ? "Failed" : "Released",
      );
      await reclaim(released);
    }
    const now = volumes.get("", name);
    if (now?.metadata.deletionTimestamp && now.status?.phase !== "Bound") {
      if (now.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER)) {
        const updated = await client.update<Volume>("persistentvolumes", {
          ...now,
          metadata: {
            ...now.metadata,
            finalizers: now.metadata.finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER),
          },
        });
        volumes.observe(updated);
      }
    }
  }

  async function reclaim(volume: Volume) {
    if (volume.spec?.persistentVolumeReclaimPolicy !== "Delete" || volume.metadata.deletionTimestamp) return;
    if (volume.status?.phase === "Failed") return;
    const ours = volume.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] === LOCAL_PATH_PROVISIONER;
    if (!ours || !options.volumes || !volume.spec.hostPath?.path) {
      if (ours && !options.volumes) return; // no node here to remove it: keep it Released
      await setVolumePhase(
        volume,
        "Failed",
        "error getting deleter volume plugin for volume: no deletable volume plugin matched",
      );
      return;
    }
    try {
      await options.volumes.remove(volume.spec.hostPath.path);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      recorder.record(volume, "Warning", "VolumeFailedDelete", message);
      await setVolumePhase(volume, "Failed", message);
      return;
    }
    const deleted = await client.delete<Volume>("persistentvolumes", "", volume.metadata.name!, {
      preconditions: { uid: volume.metadata.uid },
    });
    if (deleted) volumes.observeDeleted(deleted);
  }

  async function setVolumePhase(volume: Volume, phase: string, message?: string): Promise<Volume> {
    const current = volume.status ?? {};
    if (current.phase === phase && (message === undefined || current.message === message)) return volume;
    const status: PersistentVolume["status"] = { phase, lastPhaseTransitionTime: timestamp(ctx.clock) };
    if (message) Object.assign(status, { message, reason: "VolumeFailedDelete" });
    const updated = await client.updateStatus<Volume>("persistentvolumes", { ...volume, status });
    volumes.observe(updated);
    return updated;
  }

  async function writeClaim(next: Claim): Promise<Claim> {
    const updated = await client.update<Claim>("persistentvolumeclaims", next);
    claims.observe(updated);
    return updated;
  }
}
