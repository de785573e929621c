import type { ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1";
import { labelSelectorMatches } from "../selectors.ts";
import { type Controller, type ControllerContext, createController, keyOf } from "./controller.ts";
import type { Kube } from "./owner-references.ts";

const RESOURCE = "clusterroles.rbac.authorization.k8s.io";

/**
 * Kubernetes' clusterrole-aggregation controller: a ClusterRole with an `aggregationRule` gets as
 * rules the union of the rules of every ClusterRole its selectors match (in name order, without
 * duplicates). Any ClusterRole change re-evaluates the aggregating ones.
 */
export function createClusterRoleAggregationController(ctx: ControllerContext): Controller {
  const { client, informers } = ctx;
  const roles = informers.for<Kube<ClusterRole>>(RESOURCE);
  const aggregating = () => roles.list().filter((r) => r.aggregationRule);
  const controller = createController({
    name: "clusterrole-aggregation",
    log: ctx.log,
    reconcile,
    resync: { everyMs: 60_000, keys: () => aggregating().map(keyOf) },
  });
  roles.onEvent(() => {
    for (const r of aggregating()) controller.enqueue(keyOf(r));
  });
  return controller;

  async function reconcile(name: string) {
    const role = roles.get("", name);
    const selectors = role?.aggregationRule?.clusterRoleSelectors ?? [];
    if (!role || selectors.length === 0) return;
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    const sources = roles
      .list()
      .filter(
        (r) => r.metadata.name !== name && selectors.some((s) => labelSelectorMatches(s, r.metadata.labels)),
      )
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    for (const source of sources) {
      for (const rule of source.rules ?? []) {
        const key = JSON.stringify(rule);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push(rule);
      }
    }
    if (JSON.stringify(role.rules ?? []) === JSON.stringify(rules)) return;
    roles.observe(await client.update<Kube<ClusterRole>>(RESOURCE, { ...role, rules }));
  }
}
