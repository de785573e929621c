/**
 * Pod start latency: create a 1-container pod (image cached) → Running seen by a watch, one pod
 * at a time; each minik sample is followed by a raw `crun run -d` and a `podman run -d` sample.
 */
import { type Bench, isRunning, type Minik, NS, now, percentile, waitFor, watch } from "../lib.ts";
import { HTTPD_IMAGE, type Peers } from "../peers.ts";

export function podManifest(name: string, labels: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "httpd", image: HTTPD_IMAGE, imagePullPolicy: "IfNotPresent" }],
    },
  };
}

/** Deletes pods matching `selector` (grace 0) and waits until the list is empty. */
export async function deletePods(m: Minik, selector: string) {
  const list = await m.json(
    "GET",
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`,
  );
  await Promise.all(
    list.items.map((p: any) =>
      m
        .api("DELETE", `/api/v1/namespaces/${NS}/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 })
        .then((r) => r.text()),
    ),
  );
  await waitFor(
    async () =>
      (await m.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(selector)}`))
        .items.length === 0,
    `pods ${selector} gone`,
    60_000,
    50,
  );
}

/**
 * A pause before each sample so every start begins from a quiet machine. On a v1/hybrid cgroup host
 * a start's cgroup migration waits for an RCU grace period (6–15 ms) unless another migration ran
 * within the last one: back to back, the crun peer (started the moment minik's pod was Running)
 * skipped that wait on minik's, and minik's sample could ride on podman's.
 */
const SETTLE_MS = 50;
const settle = () => Bun.sleep(SETTLE_MS);

export async function podStartCase(b: Bench, m: Minik, peers: Peers, samples = 50) {
  const running = new Map<string, number>();
  const w = watch(m, `/api/v1/namespaces/${NS}/pods?labelSelector=bench%3Dpodstart`, (ev, at) => {
    const name = ev.object?.metadata?.name;
    if (name && !running.has(name) && isRunning(ev.object)) running.set(name, at);
  });
  await w.ready;
  const mk: number[] = [];
  const cr: number[] = [];
  const pm: number[] = [];
  const crunIds: string[] = [];
  const podmanNames: string[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const name = `ps-${i}`;
      await settle();
      const t0 = now();
      await m.json("POST", `/api/v1/namespaces/${NS}/pods`, podManifest(name, { bench: "podstart" }));
      const at = await waitFor(() => running.get(name), `pod ${name} Running`, 30_000, 1);
      mk.push(at - t0);
      if (peers.crun) {
        crunIds.push(`pbs-${i}`);
        await settle();
        cr.push(await peers.crun.start(`pbs-${i}`));
      }
      if (peers.podman) {
        podmanNames.push(`pbs-${i}`);
        await settle();
        pm.push(await peers.podman.run(`pbs-${i}`));
      }
    }
  } finally {
    w.close();
    await deletePods(m, "bench=podstart").catch((e) => b.log(`clean-up: ${e.message}`));
    if (peers.crun && crunIds.length) await peers.crun.remove(crunIds);
    if (peers.podman && podmanNames.length) await peers.podman.rm(podmanNames);
  }
  b.log(`pod start minik ms: ${mk.map((v) => v.toFixed(0)).join(" ")}`);
  const row = (metric: string, p: number, ratio: number) => ({
    case: "pod start latency",
    metric: `${metric} (${samples} samples)`,
    unit: "ms",
    minik: percentile(mk, p),
    peer: peers.crun
      ? { name: "crun run -d", value: percentile(cr, p) }
      : { name: "crun run -d", value: peers.crunMissing ?? "n/a" },
    target: { op: "<=" as const, value: ratio, text: `≤ ${ratio}× crun (ratio)` },
    samples: p === 50 ? { minik: mk, peer: cr } : undefined,
  });
  b.rows.push(row("p50", 50, 1.5), row("p99", 99, 2));
  const prow = (metric: string, p: number) => ({
    case: "pod start latency",
    metric: `${metric} (${samples} samples)`,
    unit: "ms",
    minik: percentile(mk, p),
    peer: { name: "podman run -d", value: peers.podman ? percentile(pm, p) : (peers.podmanMissing ?? "n/a") },
    samples: p === 50 ? { peer: pm } : undefined,
  });
  b.rows.push(prow("p50", 50), prow("p99", 99));
}
