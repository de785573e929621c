import type { PersistentVolumeClaim } from "kubernetes-types/core/v1";
import type { StorageClass } from "kubernetes-types/storage/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { parseQuantity } from "../quantity.ts";
import type { AdmissionHook } from "../registry/admission.ts";
import type { Client } from "../seams/client.ts";
import type { LocalVolumes } from "../seams/local-volumes.ts";
import { invalid } from "../validation/causes.ts";
import { defaultClass } from "./claim-matching.ts";
import { LOCAL_PATH_PROVISIONER } from "./storage-names.ts";

/**
 * Admission for claims of the local-path provisioner: a storage request larger than the disk
 * under the data dir can give is refused with 422 at once, instead of a claim Pending forever.
 * `volumes` is read per request (the node may start after the API); no node, no check.
 */
export function claimCapacityAdmission(
  volumes: () => LocalVolumes | undefined,
  client: () => Client,
): AdmissionHook {
  return async ({ resource, operation, object, oldObject }) => {
    if (resource !== "persistentvolumeclaims" || (operation !== "CREATE" && operation !== "UPDATE")) return;
    const host = volumes();
    if (!host) return;
    const claim = object as PersistentVolumeClaim & KubeObject;
    const value = claim.spec?.resources?.requests?.storage;
    const want = parseQuantity(value as string | undefined);
    if (!(want > 0)) return;
    const before = (oldObject as PersistentVolumeClaim | undefined)?.spec?.resources?.requests?.storage;
    if (operation === "UPDATE" && want <= parseQuantity(before as string | undefined)) return;
    const cls = await classOf(client(), claim.spec?.storageClassName);
    if (cls?.provisioner !== LOCAL_PATH_PROVISIONER) return;
    const free = await host.availableBytes();
    if (want <= free) return;
    throw ApiError.invalid("PersistentVolumeClaim", claim.metadata.name ?? "", [
      invalid(
        "spec.resources[storage]",
        value,
        `exceeds the ${free} bytes free on the disk of StorageClass "${cls.metadata?.name}"`,
      ),
    ]);
  };
}

async function classOf(client: Client, name: string | undefined | null) {
  if (name === "") return undefined;
  if (name) return client.tryGet<StorageClass & KubeObject>("storageclasses.storage.k8s.io", "", name);
  return defaultClass((await client.list<StorageClass & KubeObject>("storageclasses.storage.k8s.io")).items);
}
