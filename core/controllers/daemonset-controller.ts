import type { DaemonSetStatus } from "kubernetes-types/apps/v1";
import type { Node, Pod } from "kubernetes-types/core/v1";
import { deepEqual } from "../patch/deep-equal.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import {
  ensureUpdateRevision,
  pruneRevisions,
  REVISION_HASH_LABEL,
  type Revision,
} from "./controller-revisions.ts";
import { type Ds, newDaemonPod, shouldRunOn, targetNode } from "./daemonset-pods.ts";
import { scaledValue } from "./int-or-percent.ts";
import { omitZeros } from "./omit-empty.ts";
import { controllerRef, isControlledBy, type Kube } from "./owner-references.ts";
import { claimPods } from "./pod-adoption.ts";
import { isPodActive, isPodAvailable, isPodReady, isPodTerminal, msUntilAvailable } from "./pods.ts";
import { forEachInSlowStart } from "./slow-start.ts";

type P = Kube<Pod>;

/**
 * Kubernetes' DaemonSet controller: one pod per eligible node (nodeSelector, required node
 * affinity, tolerated taints), none elsewhere; a changed template rolls out node by node within
 * maxUnavailable (delete, then create) or maxSurge (create, then delete once the new one is
 * available); OnDelete leaves old pods until they are deleted. ControllerRevisions keep history.
 */
export function createDaemonSetController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const sets = informers.for<Ds>("daemonsets.apps");
  const pods = informers.for<P>("pods");
  const nodes = informers.for<Kube<Node>>("nodes");
  const revisions = informers.for<Revision>("controllerrevisions.apps");
  const recorder = ctx.events("daemonset-controller");

  const controller = createController({
    name: "daemonset",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => sets.list().map(keyOf) },
  });
  const all = () => {
    for (const ds of sets.list()) controller.enqueue(keyOf(ds));
  };
  sets.onEvent((e) => controller.enqueue(keyOf(e.object)));
  nodes.onEvent((e) => {
    if (
      e.type !== "MODIFIED" ||
      !deepEqual(e.old?.metadata.labels, e.object.metadata.labels) ||
      !deepEqual(e.old?.spec, e.object.spec)
    )
      all();
  });
  pods.onEvent((e) => {
    for (const pod of e.old ? [e.old, e.object] : [e.object]) {
      const ref = controllerRef(pod);
      if (ref?.kind === "DaemonSet") controller.enqueue(`${pod.metadata.namespace}/${ref.name}`);
    }
    if (!controllerRef(e.object) && e.type !== "DELETED") {
      for (const ds of sets.list(e.object.metadata.namespace))
        if (labelSelectorMatches(ds.spec?.selector, e.object.metadata.labels)) controller.enqueue(keyOf(ds));
    }
  });
  revisions.onEvent((e) => {
    const ref = controllerRef(e.object);
    if (ref?.kind === "DaemonSet") controller.enqueue(`${e.object.metadata.namespace}/${ref.name}`);
  });
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const ds = sets.get(namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const update = await ensureUpdateRevision(client, revisions, ds);
    const hash = update.metadata.labels?.[REVISION_HASH_LABEL] ?? "";
    let error: unknown;
    try {
      await sync(ds, hash);
    } catch (e) {
      error = e;
    }
    const mine = pods.list(namespace).filter((p) => isControlledBy(p, ds));
    await writeStatus(ds, mine, hash);
    const liveHashes = new Set(mine.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL]));
    const live = new Set(
      revisions
        .list(namespace)
        .filter(
          (r) =>
            liveHashes.has(r.metadata.labels?.[REVISION_HASH_LABEL]) ||
            r.metadata.name === update.metadata.name,
        )
        .map((r) => r.metadata.name!),
    );
    await pruneRevisions(client, revisions, ds, live);
    if (error) throw error;
    const waits = mine
      .map((p) => msUntilAvailable(p, ds.spec?.minReadySeconds ?? 0, clock.now()))
      .filter((x) => x !== undefined);
    return waits.length ? { requeueAfterMs: Math.min(...waits) + 10 } : undefined;
  }

  function available(ds: Ds, pod: P): boolean {
    return isPodAvailable(pod, ds.spec?.minReadySeconds ?? 0, clock.now()) && !pod.metadata.deletionTimestamp;
  }

  async function sync(ds: Ds, hash: string): Promise<void> {
    const mine = await claimPods(
      client,
      pods,
      ds,
      (p) => labelSelectorMatches(ds.spec?.selector, p.metadata.labels) && !!targetNode(p),
    );
    const byNode = new Map<string, P[]>();
    for (const p of mine) {
      const node = targetNode(p) ?? "";
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    const eligible = nodes.list().filter((n) => shouldRunOn(ds, n));
    const eligibleNames = new Set(eligible.map((n) => n.metadata.name!));
    const doomed: P[] = [];
    const create: string[] = [];

    // Pods on nodes that should not run one, and finished pods, go.
    for (const [node, list] of byNode) {
      for (const p of list) {
        if (p.metadata.deletionTimestamp) continue;
        if (!eligibleNames.has(node) || isPodTerminal(p)) doomed.push(p);
      }
    }
    const rolling = ds.spec?.updateStrategy?.type !== "OnDelete";
    const desired = eligible.length;
    const maxSurge = rolling
      ? scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, desired, true, 0)
      : 0;
    const maxUnavailable = rolling
      ? scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1)
      : 0;
    let unavailable = 0;
    let surging = 0;
    const oldOnly: { node: string; old: P }[] = [];
    for (const node of eligible) {
      const nodeName = node.metadata.name!;
      const list = (byNode.get(nodeName) ?? []).filter((p) => isPodActive(p));
      const fresh = list.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash);
      const old = list.filter((p) => p.metadata.labels?.[REVISION_HASH_LABEL] !== hash);
      if (!list.length) {
        if (!(byNode.get(nodeName) ?? []).some((p) => p.metadata.deletionTimestamp)) create.push(nodeName);
        unavailable++;
        continue;
      }
      if (fresh.length > 1) doomed.push(...fresh.slice(1));
      if (fresh.length && old.length) {
        // A surge in progress: the old pods go once the new one is available.
        if (available(ds, fresh[0]!)) doomed.push(...old);
        else surging++;
        if (!available(ds, fresh[0]!) && !old.some((p) => available(ds, p))) unavailable++;
        continue;
      }
      if (old.length > 1) doomed.push(...old.slice(1));
      const pod = fresh[0] ?? old[0]!;
      if (!available(ds, pod)) unavailable++;
      if (!fresh.length && rolling) oldOnly.push({ node: nodeName, old: old[0]! });
    }
    // Rolling update, one budget per strategy.
    for (const { node, old } of oldOnly) {
      if (maxSurge > 0) {
        if (surging < maxSurge) {
          create.push(node);
          surging++;
        }
      } else if (!available(ds, old)) doomed.push(old);
      else if (unavailable < maxUnavailable) {
        doomed.push(old);
        unavailable++;
      }
    }

    // Slow-start batches, at most a burst per reconcile; the pods' events bring the next pass.
    const changes: (() => Promise<void>)[] = [
      ...create.map((node) => async () => {
        const created = await client.create<P>("pods", newDaemonPod(ds, node, hash));
        pods.observe(created);
        recorder.record(ds, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
      }),
      ...doomed.map((pod) => async () => {
        const gone = await client.delete<P>("pods", pod.metadata.namespace!, pod.metadata.name!, {
          preconditions: { uid: pod.metadata.uid },
        });
        pods.observeDeleted(gone ?? pod);
        recorder.record(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`);
      }),
    ];
    try {
      await forEachInSlowStart(changes, (change) => change());
    } catch (reason) {
      recorder.record(
        ds,
        "Warning",
        "FailedCreate",
        `Error: ${reason instanceof Error ? reason.message : reason}`,
      );
      throw reason;
    }
  }

  async function writeStatus(ds: Ds, mine: P[], hash: string): Promise<void> {
    const eligible = new Set(
      nodes
        .list()
        .filter((n) => shouldRunOn(ds, n))
        .map((n) => n.metadata.name!),
    );
    const byNode = new Map<string, P[]>();
    for (const p of mine.filter(isPodActive)) {
      const node = targetNode(p) ?? "";
      byNode.set(node, [...(byNode.get(node) ?? []), p]);
    }
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let availableNodes = 0;
    let updated = 0;
    for (const [node, list] of byNode) {
      if (!eligible.has(node)) {
        misscheduled++;
        continue;
      }
      current++;
      if (list.some(isPodReady)) ready++;
      if (list.some((p) => available(ds, p))) availableNodes++;
      if (list.some((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash)) updated++;
    }
    const status: DaemonSetStatus = omitZeros(
      {
        currentNumberScheduled: current,
        numberMisscheduled: misscheduled,
        desiredNumberScheduled: eligible.size,
        numberReady: ready,
        observedGeneration: ds.metadata.generation,
        updatedNumberScheduled: updated,
        numberAvailable: availableNodes,
        numberUnavailable: eligible.size - availableNodes,
      },
      ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"],
    );
    if (deepEqual(status, ds.status ?? {})) return;
    const written = await client.updateStatus<Ds>("daemonsets.apps", { ...ds, status });
    sets.observe(written);
  }
}
