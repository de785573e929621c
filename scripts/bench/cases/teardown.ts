/** Teardown: delete the 50-replica Deployment → all its containers gone. */
import { alive, containerPids, type Minik, NS, now, waitFor, watch } from "../lib.ts";
import { leftovers, podHostState } from "./teardown-leftovers.ts";

/**
 * DELETE → every container pid dead and no pod listed. `log` gets where the time went: when the
 * last pod object was gone (its DELETED event) and when the last pid was seen dead. Then (untimed)
 * it waits until nothing of those pods is left on the host, and logs when that was.
 */
export async function minikTeardownMs(
  m: Minik,
  deployment: string,
  selector: string,
  log?: (line: string) => void,
): Promise<number> {
  const pids = containerPids(m.dataDir);
  const pods = await m.json(
    "GET",
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  const host = podHostState(
    m.dataDir,
    pods.items.map((p: any) => p.metadata.uid),
  );
  let lastDeleted = 0;
  const w = watch(
    m,
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`,
    (ev, at) => {
      if (ev.type === "DELETED") lastDeleted = Math.max(lastDeleted, at);
    },
  );
  await w.ready;
  try {
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
    const ms = now() - t0;
    let left: string[] = [];
    let lastLeft = "";
    await waitFor(
      async () => {
        left = await leftovers(m.dataDir, host);
        if (left.length) lastLeft = `${left.length} at ${(now() - t0).toFixed(0)} ms, e.g. ${left[0]}`;
        return left.length === 0;
      },
      `nothing of ${deployment}'s pods left on the host`,
      30_000,
      20,
    ).catch((e) => {
      throw new Error(`${e.message}; still there: ${left.slice(0, 5).join(", ")}`);
    });
    log?.(
      `teardown ${deployment}: last pod object gone ${(lastDeleted - t0).toFixed(0)} ms, last container dead by ${ms.toFixed(0)} ms (${pids.length} pids), netns/veths/mounts/cgroups/dirs of ${host.podUids.length} pods and ${host.containerIds.length} containers gone by ${(now() - t0).toFixed(0)} ms (last seen left: ${lastLeft || "none"})`,
    );
    return ms;
  } finally {
    w.close();
  }
}
