import type { ReplicaSet } from "kubernetes-types/apps/v1";
import type { Pod } from "kubernetes-types/core/v1";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1";
import { setCondition } from "../conditions.ts";
import { timestamp } from "../loop/clock.ts";
import { deepEqual } from "../patch/deep-equal.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf, splitKey } from "./controller.ts";
import { scaledValue } from "./int-or-percent.ts";
import { controllerRef, type Kube } from "./owner-references.ts";
import { isPodReady, isPodTerminal } from "./pods.ts";

type Pdb = Kube<PodDisruptionBudget>;

/**
 * PodDisruptionBudget status, as Kubernetes' disruption controller computes it: expected pods
 * (the replicas their controllers ask for), healthy ones (Ready), the healthy count the budget
 * demands (minAvailable, or expected minus maxUnavailable; percentages round up), and how many
 * disruptions that allows.
 */
export function createDisruptionController(ctx: ControllerContext): Controller {
  const { client, informers, clock } = ctx;
  const pdbs = informers.for<Pdb>("poddisruptionbudgets.policy");
  const pods = informers.for<Kube<Pod>>("pods");
  const replicaSets = informers.for<Kube<ReplicaSet>>("replicasets.apps");

  const controller = createController({
    name: "disruption",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 30_000, keys: () => pdbs.list().map(keyOf) },
  });
  pdbs.onEvent((e) => controller.enqueue(keyOf(e.object)));
  const wake = (ns: string, labels: Record<string, string> | undefined) => {
    for (const pdb of pdbs.list(ns))
      if (labelSelectorMatches(pdb.spec?.selector, labels)) controller.enqueue(keyOf(pdb));
  };
  pods.onEvent((e) => {
    wake(e.object.metadata.namespace ?? "", e.object.metadata.labels);
    if (e.old) wake(e.old.metadata.namespace ?? "", e.old.metadata.labels);
  });
  replicaSets.onEvent((e) =>
    wake(e.object.metadata.namespace ?? "", e.object.spec?.template?.metadata?.labels),
  );
  return controller;

  async function reconcile(key: string) {
    const { namespace, name } = splitKey(key);
    const pdb = pdbs.get(namespace, name);
    if (!pdb) return;
    const selected = pods
      .list(namespace)
      .filter((p) => !isPodTerminal(p) && labelSelectorMatches(pdb.spec?.selector, p.metadata.labels));
    const expected = expectedPods(selected);
    const healthy = selected.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p)).length;
    let desired: number;
    if (pdb.spec?.maxUnavailable !== undefined)
      desired = Math.max(0, expected - scaledValue(pdb.spec.maxUnavailable, expected, true));
    else desired = scaledValue(pdb.spec?.minAvailable ?? 1, expected, true);
    const allowed = Math.max(0, healthy - desired);
    const status: PodDisruptionBudgetStatus = {
      observedGeneration: pdb.metadata.generation,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      disruptionsAllowed: allowed,
      disruptedPods: pdb.status?.disruptedPods,
      conditions: setCondition(
        pdb.status?.conditions,
        allowed > 0
          ? { type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "" }
          : { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "" },
        timestamp(clock),
      ),
    };
    if (deepEqual(status, pdb.status)) return;
    pdbs.observe(await client.updateStatus<Pdb>("poddisruptionbudgets.policy", { ...pdb, status }));
  }

  /** The replicas the pods' ReplicaSets want (each counted once); bare pods count as one. */
  function expectedPods(selected: Kube<Pod>[]): number {
    const owners = new Set<string>();
    let expected = 0;
    for (const pod of selected) {
      const ref = controllerRef(pod);
      const rs =
        ref?.kind === "ReplicaSet" ? replicaSets.get(pod.metadata.namespace ?? "", ref.name) : undefined;
      if (!rs) expected++;
      else if (!owners.has(rs.metadata.uid!)) {
        owners.add(rs.metadata.uid!);
        expected += rs.spec?.replicas ?? 1;
      }
    }
    return expected;
  }
}
