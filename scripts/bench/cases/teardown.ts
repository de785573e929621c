/** Teardown: delete the 50-replica Deployment → all its containers gone. */
import { alive, containerPids, type Minik, NS, now, waitFor } from "../lib.ts";

export async function minikTeardownMs(m: Minik, deployment: string, selector: string): Promise<number> {
  const pids = containerPids(m.dataDir);
  const t0 = now();
  await m.json("DELETE", `/apis/apps/v1/namespaces/${NS}/deployments/${deployment}`, {
    propagationPolicy: "Background",
  });
  await waitFor(
    async () => {
      if (pids.some(alive)) return false;
      const list = await m.json(
        "GET",
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`,
      );
      return list.items.length === 0;
    },
    `deployment ${deployment}'s containers gone`,
    120_000,
    10,
  );
  return now() - t0;
}
