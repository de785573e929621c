import type { OwnerReference } from "kubernetes-types/meta/v1";
import { findCustomResource } from "../crd/lookup.ts";
import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { findByKind, RESOURCES, resourceKey } from "../resources.ts";
import { type Controller, type ControllerContext, createController } from "./controller.ts";
import type { Informer } from "./informer.ts";
import { BURST_REPLICAS, forEachInSlowStart } from "./slow-start.ts";

const FOREGROUND = "foregroundDeletion";
const ORPHAN = "orphan";

/**
 * Owner-reference garbage collection, as Kubernetes' garbage collector does it:
 * - a dependent whose owners are all gone (by uid) is deleted in the background; a dangling
 *   reference next to a live owner is dropped;
 * - an owner with the `foregroundDeletion` finalizer has its dependents deleted, and loses the
 *   finalizer (and so goes) once no blocking dependent is left;
 * - an owner with the `orphan` finalizer has its dependents' references to it removed first.
 * Keys are `<resource>|<namespace>/<name>`.
 */
export function createGarbageCollector(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const watched = RESOURCES.filter((r) => r.kind !== "Event").map(resourceKey);
  const caches = new Map<string, Informer>(watched.map((r) => [r, informers.for(r)]));
  /** uid → key of every cached object. */
  const byUid = new Map<string, string>();
  /** owner uid → keys of the objects that name it. */
  const dependents = new Map<string, Set<string>>();

  const controller = createController({
    name: "garbage-collector",
    log: ctx.log,
    reconcile,
    // kube-controller-manager's --concurrent-gc-syncs default: a deleted ReplicaSet's pods go
    // out together instead of two at a time (each reconcile waits on a read and a write).
    workers: 20,
    // The safety net: anything naming an owner the caches do not hold, or waiting on a finalizer.
    resync: { everyMs: 60_000, keys: suspects },
  });

  for (const [resource, informer] of caches) {
    informer.onEvent((e) => {
      const obj = e.object;
      const key = keyFor(resource, obj);
      const uid = obj.metadata.uid!;
      for (const ref of e.old?.metadata.ownerReferences ?? []) dependents.get(ref.uid)?.delete(key);
      if (e.type === "DELETED") {
        byUid.delete(uid);
        for (const ref of obj.metadata.ownerReferences ?? []) dependents.get(ref.uid)?.delete(key);
        // Its dependents may now be orphans; an owner waiting in foreground may now be free.
        for (const dep of dependents.get(uid) ?? []) controller.enqueue(dep);
        dependents.delete(uid);
        wakeOwners(obj);
        return;
      }
      byUid.set(uid, key);
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const set = dependents.get(ref.uid) ?? new Set<string>();
        dependents.set(ref.uid, set);
        set.add(key);
      }
      if (needsAttention(obj)) controller.enqueue(key);
      if (obj.metadata.deletionTimestamp) wakeOwners(obj);
    });
  }
  return controller;

  /** Names an owner the caches do not hold, or waits on a finalizer the collector owns. */
  function needsAttention(obj: KubeObject): boolean {
    const dangling = obj.metadata.ownerReferences?.some((r) => !byUid.has(r.uid));
    const finalizing =
      obj.metadata.deletionTimestamp &&
      obj.metadata.finalizers?.some((f) => f === FOREGROUND || f === ORPHAN);
    return !!(dangling || finalizing);
  }

  function suspects(): string[] {
    const keys: string[] = [];
    for (const [resource, informer] of caches) {
      for (const obj of informer.list()) {
        if (needsAttention(obj)) keys.push(keyFor(resource, obj));
      }
    }
    return keys;
  }

  function wakeOwners(obj: KubeObject): void {
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const ownerKey = byUid.get(ref.uid);
      if (ownerKey) controller.enqueue(ownerKey);
    }
  }

  async function reconcile(key: string) {
    const { resource, namespace, name } = parseKey(key);
    const obj = caches.get(resource)?.get(namespace, name);
    if (!obj) return;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && finalizers.includes(ORPHAN)) {
      const more = await orphanDependents(resource, obj);
      if (more) return more;
    } else if (obj.metadata.deletionTimestamp && finalizers.includes(FOREGROUND))
      await deleteDependents(resource, obj);
    await collectIfOrphaned(resource, obj);
  }

  function liveDependents(owner: KubeObject): { resource: string; obj: KubeObject }[] {
    const out: { resource: string; obj: KubeObject }[] = [];
    for (const key of dependents.get(owner.metadata.uid!) ?? []) {
      const { resource, namespace, name } = parseKey(key);
      const obj = caches.get(resource)?.get(namespace, name);
      if (obj?.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid))
        out.push({ resource, obj });
    }
    return out;
  }

  /** Orphan deletion: drops the owner's references in slow-start batches, a burst per reconcile. */
  async function orphanDependents(
    resource: string,
    owner: KubeObject,
  ): Promise<{ requeueAfterMs: number } | undefined> {
    const deps = liveDependents(owner);
    await forEachInSlowStart(deps, async (dep) => {
      const refs = dep.obj.metadata.ownerReferences!.filter((r) => r.uid !== owner.metadata.uid);
      const updated = await client.update(dep.resource, {
        ...dep.obj,
        metadata: { ...dep.obj.metadata, ownerReferences: refs },
      });
      caches.get(dep.resource)!.observe(updated);
    });
    // Updates wake no owner: come back for the rest.
    if (deps.length > BURST_REPLICAS) return { requeueAfterMs: 0 };
    await removeFinalizer(resource, owner, ORPHAN);
  }

  /**
   * Foreground deletion: deletes the dependents in slow-start batches, a burst per reconcile
   * (their deletion events bring the owner back); the owner goes once none blocks it.
   */
  async function deleteDependents(resource: string, owner: KubeObject): Promise<void> {
    const deps = liveDependents(owner);
    const refTo = (dep: KubeObject) =>
      dep.metadata.ownerReferences!.find((r) => r.uid === owner.metadata.uid)!;
    const blocking = deps.filter((dep) => refTo(dep.obj).blockOwnerDeletion).length;
    await forEachInSlowStart(
      deps.filter((dep) => !dep.obj.metadata.deletionTimestamp),
      (dep) =>
        deleteObject(dep.resource, dep.obj, refTo(dep.obj).blockOwnerDeletion ? "Foreground" : "Background"),
    );
    if (blocking === 0) await removeFinalizer(resource, owner, FOREGROUND);
  }

  async function removeFinalizer(resource: string, obj: KubeObject, finalizer: string): Promise<void> {
    const finalizers = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    // The registry removes the object when this was its last finalizer.
    caches
      .get(resource)!
      .observe(await client.update(resource, { ...obj, metadata: { ...obj.metadata, finalizers } }));
  }

  /** Deletes the object when every owner is gone; drops references to owners that are gone. */
  async function collectIfOrphaned(resource: string, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const gone: OwnerReference[] = [];
    for (const ref of refs) if (!(await ownerExists(obj, ref))) gone.push(ref);
    if (!gone.length) return;
    if (gone.length === refs.length) {
      if (!obj.metadata.deletionTimestamp) await deleteObject(resource, obj, "Background");
      return;
    }
    const kept = refs.filter((r) => !gone.includes(r));
    caches
      .get(resource)!
      .observe(
        await client.update(resource, { ...obj, metadata: { ...obj.metadata, ownerReferences: kept } }),
      );
  }

  /** The cache first; a miss is confirmed against the store, since the cache may lag. */
  async function ownerExists(dependent: KubeObject, ref: OwnerReference): Promise<boolean> {
    if (byUid.has(ref.uid)) return true;
    const info = findByKind(ref.apiVersion, ref.kind);
    const found = info
      ? { resource: resourceKey(info), namespaced: info.namespaced }
      : await findCustomResource(client, ref.apiVersion, ref.kind);
    if (!found) return true; // a kind minik does not serve: nothing to check against, keep it
    const namespace = found.namespaced ? (dependent.metadata.namespace ?? "") : "";
    const owner = await client.tryGet(found.resource, namespace, ref.name);
    return owner?.metadata.uid === ref.uid;
  }

  async function deleteObject(
    resource: string,
    obj: KubeObject,
    propagationPolicy: "Foreground" | "Background",
  ) {
    try {
      const result = await client.delete(resource, obj.metadata.namespace ?? "", obj.metadata.name!, {
        propagationPolicy,
        preconditions: { uid: obj.metadata.uid },
      });
      caches.get(resource)!.observeDeleted(result ?? obj);
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
    }
  }
}

function keyFor(resource: string, obj: KubeObject): string {
  return `${resource}|${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

function parseKey(key: string): { resource: string; namespace: string; name: string } {
  const bar = key.indexOf("|");
  const slash = key.indexOf("/", bar);
  return { resource: key.slice(0, bar), namespace: key.slice(bar + 1, slash), name: key.slice(slash + 1) };
}
