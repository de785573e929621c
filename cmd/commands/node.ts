import { ApiError, isApiError } from "../../core/errors.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { platform } from "../platform/index.ts";
import { UsageError } from "../usage-error.ts";

async function nodeName(api: ApiClient, name: string | undefined): Promise<string> {
  if (name) return name.replace(/^(nodes?|no)\//, "");
  const list = await api.get<{ items: any[] }>("/api/v1/nodes");
  if (list.items.length !== 1) throw new UsageError("name the node to act on");
  return list.items[0].metadata.name;
}

export async function cordon(name: string | undefined, unschedulable: boolean, opts: GlobalOptions) {
  const api = new ApiClient(opts);
  const node = await nodeName(api, name);
  await api.request("PATCH", `/api/v1/nodes/${node}`, {
    contentType: "application/merge-patch+json",
    body: { spec: { unschedulable: unschedulable ? true : null } },
  });
  console.log(`node/${node} ${unschedulable ? "cordoned" : "uncordoned"}`);
}

/**
 * `minik drain`: cordon, then evict every pod on the node through the Eviction API (which honours
 * PodDisruptionBudgets), retrying refused evictions until --timeout, then wait for them to go.
 */
export async function drain(
  name: string | undefined,
  opts: GlobalOptions & { gracePeriod?: number; timeout?: number; force?: boolean },
) {
  const api = new ApiClient(opts);
  const node = await nodeName(api, name);
  await cordon(node, true, opts);
  const deadline = Date.now() + (opts.timeout ? Number(opts.timeout) * 1000 : 5 * 60_000);
  const pods = (
    await api.get<{ items: any[] }>("/api/v1/pods", { query: { fieldSelector: `spec.nodeName=${node}` } })
  ).items;
  const unmanaged = pods.filter((p) => !p.metadata.ownerReferences?.some((o: any) => o.controller));
  if (unmanaged.length && !opts.force) {
    throw new ApiError(
      "BadRequest",
      `cannot delete Pods that declare no controller (use --force to override): ${unmanaged.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(", ")}`,
    );
  }
  const pending = new Set(pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));
  for (const p of pods) console.log(`evicting pod ${p.metadata.namespace}/${p.metadata.name}`);
  while (pending.size) {
    for (const key of [...pending]) {
      const [ns, pod] = key.split("/") as [string, string];
      const eviction = {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: pod, namespace: ns },
        ...(opts.gracePeriod !== undefined && opts.gracePeriod >= 0
          ? { deleteOptions: { gracePeriodSeconds: Number(opts.gracePeriod) } }
          : {}),
      };
      try {
        await api.request("POST", `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, { body: eviction });
        pending.delete(key);
      } catch (e) {
        if (isApiError(e, "NotFound")) pending.delete(key);
        else if (!isApiError(e, "TooManyRequests")) throw e;
        else if (Date.now() > deadline)
          throw new ApiError("Timeout", `drain did not complete within the timeout: ${e.message}`);
      }
    }
    if (pending.size) await platform.sleep(500);
  }
  for (const p of pods) {
    const url = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`;
    for (;;) {
      try {
        const cur = await api.get(url);
        if (cur.metadata.uid !== p.metadata.uid) break;
      } catch (e) {
        if (isApiError(e, "NotFound")) break;
        throw e;
      }
      if (Date.now() > deadline)
        throw new ApiError(
          "Timeout",
          `drain did not complete within the timeout: pod ${p.metadata.name} still terminating`,
        );
      await platform.sleep(200);
    }
    console.log(`pod/${p.metadata.name} evicted`);
  }
  console.log(`node/${node} drained`);
}
