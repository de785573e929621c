import type { PodDisruptionBudget } from "kubernetes-types/policy/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { DeleteOptions } from "../seams/client.ts";
import { labelSelectorMatches } from "../selectors.ts";
import { conflict, isConflict, kindOf, type RegistryContext } from "./context.ts";
import { deleteObject } from "./deletion.ts";
import { updateStatusOf } from "./writes.ts";

/**
 * policy/v1 Eviction: deletes the pod unless a PodDisruptionBudget covering it allows no more
 * disruptions (429, and `kubectl drain` retries). An allowed eviction uses up one disruption in
 * the budget's status at once, so two evictions cannot both spend the last one.
 */
export async function evictPod(
  ctx: RegistryContext,
  namespace: string,
  name: string,
  deleteOptions: DeleteOptions = {},
): Promise<KubeObject> {
  const pods = kindOf("pods");
  const pod = await ctx.store.get(pods.key, namespace, name);
  if (!pod) throw ApiError.notFound("pods", name);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const terminal = phase === "Succeeded" || phase === "Failed";
  if (!terminal && !pod.metadata.deletionTimestamp) await spendDisruption(ctx, pod, !!deleteOptions.dryRun);
  return deleteObject(ctx, pods, namespace, name, deleteOptions);
}

async function spendDisruption(ctx: RegistryContext, pod: KubeObject, dryRun: boolean): Promise<void> {
  const pdbs = kindOf("poddisruptionbudgets.policy");
  const namespace = pod.metadata.namespace!;
  for (let attempt = 0; ; attempt++) {
    const { items } = await ctx.store.list(pdbs.key, namespace);
    const covering = items.filter((b) =>
      labelSelectorMatches((b as PodDisruptionBudget).spec?.selector, pod.metadata.labels),
    );
    if (covering.length === 0) return;
    if (covering.length > 1) {
      throw new ApiError(
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    }
    const budget = covering[0]!;
    const status = (budget.status ?? {}) as {
      disruptionsAllowed?: number;
      currentHealthy?: number;
      desiredHealthy?: number;
    };
    const allowed = status.disruptionsAllowed ?? 0;
    if (allowed <= 0) {
      throw new ApiError(
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
        {
          causes: [
            {
              reason: "DisruptionBudget",
              message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
            },
          ],
        },
      );
    }
    if (dryRun) return;
    try {
      await updateStatusOf(ctx, pdbs, budget, { ...status, disruptionsAllowed: allowed - 1 });
      return;
    } catch (e) {
      if (!isConflict(e) || attempt >= ctx.maxRetries)
        throw isConflict(e) ? conflict(pdbs, budget.metadata.name!) : e;
    }
  }
}
