import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { type Controller, type ControllerContext, createController } from "../controllers/controller.ts";
import type { KubeObject } from "../object.ts";
import type { PolicyEnforcer } from "../seams/policy-enforcer.ts";
import { policyView } from "./policy-view.ts";

/**
 * Keeps the node's NetworkPolicy data path equal to NetworkPolicies + Pods + Namespaces (what a
 * policy-enforcing network plugin's agent does). One key for the node, as the service proxy:
 * the enforcer replaces its whole table per sync, so events during a sync fold into the next.
 * An unchanged view is not re-applied except by the periodic resync (someone may have flushed it).
 *
 * Start it after `informers.start()` has resolved, so the first sync sees the full state.
 */
const KEY = "node";

export function createNetworkPolicyController(
  ctx: ControllerContext,
  enforcer: PolicyEnforcer,
  options: { resyncMs?: number } = {},
): Controller {
  const resyncMs = options.resyncMs ?? 30_000;
  const policies = ctx.informers.for<NetworkPolicy & KubeObject>("networkpolicies.networking.k8s.io");
  const pods = ctx.informers.for<Pod & KubeObject>("pods");
  const namespaces = ctx.informers.for<Namespace & KubeObject>("namespaces");
  let last: string | undefined;
  let lastApplied = 0;

  const controller = createController({
    name: "network-policy",
    workers: 1,
    log: ctx.log,
    resync: { everyMs: resyncMs, keys: () => [KEY] },
    async reconcile() {
      const view = policyView({
        policies: policies.list(),
        pods: pods.list(),
        namespaces: namespaces.list(),
      });
      const text = JSON.stringify(view);
      const now = ctx.clock.now();
      if (text === last && now - lastApplied < resyncMs - 100) return;
      await enforcer.sync(view);
      last = text;
      lastApplied = now;
    },
  });

  const kick = () => controller.enqueue(KEY);
  policies.onEvent(kick);
  namespaces.onEvent((e) => {
    if (
      e.type !== "MODIFIED" ||
      JSON.stringify(e.object.metadata.labels) !== JSON.stringify(e.old?.metadata.labels)
    )
      kick();
  });
  // What a pod contributes: its address, labels, phase (finished pods drop out) and named ports.
  const podFacts = (p: Pod | undefined) =>
    JSON.stringify([
      p?.status?.podIP,
      p?.status?.phase,
      p?.metadata?.labels,
      p?.spec?.containers?.map((c) => c.ports),
    ]);
  pods.onEvent((e) => {
    if (e.type !== "MODIFIED" || podFacts(e.object) !== podFacts(e.old)) kick();
  });
  return {
    ...controller,
    start() {
      controller.start();
      // The first sync also clears what a previous run left for policies deleted since.
      controller.enqueue(KEY);
    },
  };
}
