/**
 * Replica ramp (Deployment of 50 and 100 → all Running), with the memory and teardown figures
 * taken while the 50 replicas stand. Each round runs minik, then 50 raw `crun run -d`, then 50
 * `podman run -d`, so load drift hits all three alike.
 */
import { type Bench, cpuMs, isRunning, type Minik, median, NS, now, waitFor, watch } from "../lib.ts";
import { HTTPD_IMAGE, type Peers } from "../peers.ts";
import { conmonPssKb, type IdleMemory, type MinikMemory, settledMemory } from "./memory.ts";
import { minikTeardownMs } from "./teardown.ts";

export function deploymentManifest(name: string, replicas: number, image = HTTPD_IMAGE) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            { name: "httpd", image, imagePullPolicy: "IfNotPresent", ports: [{ containerPort: 80 }] },
          ],
        },
      },
    },
  };
}

export interface Ramp {
  /** POST → the last pod Running. */
  ms: number;
  /** POST → the last pod created, scheduled (nodeName set), Running: where the time goes. */
  phases: { created: number; scheduled: number; running: number };
}

/** POST a Deployment and wait until `replicas` of its pods are Running (seen by a watch). */
export async function rampMinik(m: Minik, name: string, replicas: number): Promise<Ramp> {
  const created = new Map<string, number>();
  const scheduled = new Map<string, number>();
  const running = new Map<string, number>();
  const w = watch(m, `/api/v1/namespaces/${NS}/pods?labelSelector=app%3D${name}`, (ev, at) => {
    const pod = ev.object;
    const n = pod?.metadata?.name;
    if (!n || ev.type === "DELETED") return;
    if (!created.has(n)) created.set(n, at);
    if (pod.spec?.nodeName && !scheduled.has(n)) scheduled.set(n, at);
    if (isRunning(pod) && !running.has(n)) running.set(n, at);
  });
  await w.ready;
  try {
    const t0 = now();
    await m.json("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deploymentManifest(name, replicas));
    await waitFor(() => running.size >= replicas, `${replicas} replicas of ${name} Running`, 120_000, 5);
    const last = (t: Map<string, number>) => Math.max(...t.values()) - t0;
    return {
      ms: last(running),
      phases: { created: last(created), scheduled: last(scheduled), running: last(running) },
    };
  } finally {
    w.close();
  }
}

/** How many times a pod sandbox failed to start (each costs a 10 s retry in the agent). */
async function sandboxFailures(m: Minik): Promise<string> {
  const events = (await m.json("GET", `/api/v1/namespaces/${NS}/events`)).items.filter(
    (e: any) => e.reason === "FailedCreatePodSandBox",
  );
  const count = events.reduce((s: number, e: any) => s + (e.count ?? 1), 0);
  const why = new Set(events.map((e: any) => String(e.message).replace(/^.*: /, "")));
  return `${count}${count ? ` (${[...why].slice(0, 3).join("; ")})` : ""}`;
}

export async function rampCase(b: Bench, m: Minik, peers: Peers, fresh: IdleMemory, rounds = 3) {
  const r50: number[] = [];
  const c50: number[] = [];
  const p50: number[] = [];
  const tdMinik: number[] = [];
  const tdCrun: number[] = [];
  const tdPodman: number[] = [];
  let busy: MinikMemory | undefined;
  // one small ramp first, gone again before the idle sample: code the first Deployment, ReplicaSet
  // and teardown run for the first time is not memory per pod (it is there for the second pod too)
  await rampMinik(m, "ramp-warm-up", 5);
  await minikTeardownMs(m, "ramp-warm-up", "app=ramp-warm-up");
  // idle and busy around the first ramp alone: everything else the daemon holds is the same in both
  const idle = await settledMemory(m);
  // both samples must find the daemon in the same state: a release between them would make the
  // pages the ramp touched again look like memory per pod
  const releasesAtIdle = m.releases();
  b.log(
    `idle before the ramp: daemon RSS ${(idle.daemonRssKb / 1024).toFixed(1)} MB, PSS ${(idle.addedPssKb / 1024).toFixed(1)} MB (samples ${idle.raw.map((x) => (x.addedPssKb / 1024).toFixed(1)).join(" ")})`,
  );
  let idleCpu = Number.NaN;
  let releasesBetween = 0;
  let conmon = Number.NaN;
  // memory per pod in every round (before its ramp, with its 50 pods): the median of the rounds,
  // since one pair of samples moves by a few MB with the heap's shape (±0.06 MB per pod)
  const perPodKb: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const name = `ramp50-${round}`;
    const before = round === 0 ? idle : await settledMemory(m);
    const cpu0 = cpuMs(m.pid);
    const ramp = await rampMinik(m, name, 50);
    const cpu1 = cpuMs(m.pid);
    r50.push(ramp.ms);
    b.log(
      `ramp 50 CPU: daemon ${cpu1.self - cpu0.self} ms, its exited children (ip, unshare, nsenter+crun, …) ${cpu1.children - cpu0.children} ms`,
    );
    b.log(
      `ramp 50 phases (last pod, ms after POST): ${JSON.stringify(ramp.phases, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`,
    );
    await Bun.sleep(2000); // let the post-start work (status writes, probes) settle
    const settled = await settledMemory(m);
    perPodKb.push((settled.addedPssKb - before.addedPssKb) / 50);
    b.log(
      `round ${round}: PSS before the ramp ${(before.addedPssKb / 1024).toFixed(1)} MB, with 50 pods ${(settled.addedPssKb / 1024).toFixed(1)} MB: ${(perPodKb.at(-1)! / 1024).toFixed(3)} MB per pod`,
    );
    if (!busy) {
      busy = settled;
      releasesBetween = m.releases() - releasesAtIdle;
      b.log(
        `with 50 pods: daemon RSS ${(settled.daemonRssKb / 1024).toFixed(1)} MB, PSS ${(settled.addedPssKb / 1024).toFixed(1)} MB (samples ${settled.raw.map((x) => (x.addedPssKb / 1024).toFixed(1)).join(" ")})`,
      );
      const c0 = cpuMs(m.pid);
      await Bun.sleep(5000);
      const c1 = cpuMs(m.pid);
      idleCpu = (c1.self - c0.self + c1.children - c0.children) / 5;
    }
    const ids = Array.from({ length: 50 }, (_, i) => `pbr${round}-${i}`);
    if (peers.crun) c50.push(await peers.crun.startBatch(ids));
    if (peers.podman) p50.push(await peers.podman.runBatch(ids));
    if (peers.podman && Number.isNaN(conmon)) conmon = conmonPssKb(await peers.podman.conmonPids());
    tdMinik.push(await minikTeardownMs(m, name, `app=${name}`, b.log));
    if (peers.crun) tdCrun.push(await peers.crun.remove(ids));
    if (peers.podman) tdPodman.push(await peers.podman.rm(ids));
    b.log(
      `ramp round ${round}: minik ${r50.at(-1)?.toFixed(0)} ms, crun ${c50.at(-1)?.toFixed(0)} ms, podman ${p50.at(-1)?.toFixed(0)} ms; teardown minik ${tdMinik.at(-1)?.toFixed(0)} ms`,
    );
  }
  const ramp100 = await rampMinik(m, "ramp100", 100);
  b.log(`sandbox failures so far (FailedCreatePodSandBox events): ${await sandboxFailures(m)}`);
  const r100 = ramp100.ms;
  b.log(
    `ramp 100 phases: ${JSON.stringify(ramp100.phases, (_, v) => (typeof v === "number" ? Math.round(v) : v))}`,
  );
  const td100 = await minikTeardownMs(m, "ramp100", "app=ramp100", b.log);
  b.log(`ramp 100: ${r100.toFixed(0)} ms, teardown ${td100.toFixed(0)} ms`);

  const c = `p50 of ${rounds} rounds`;
  const crunPeer = (v: number[]) => ({
    name: "50× crun run -d",
    value: peers.crun ? median(v) : (peers.crunMissing ?? "n/a"),
  });
  const podmanPeer = (v: number[]) => ({
    name: "50× podman run -d",
    value: peers.podman ? median(v) : (peers.podmanMissing ?? "n/a"),
  });
  const t11 = { op: "<=" as const, value: 1.1, text: "≤ 1.1× crun (ratio)" };
  b.rows.push({
    case: "replica ramp",
    metric: `50 replicas → all Running, ${c}`,
    unit: "ms",
    minik: median(r50),
    peer: crunPeer(c50),
    target: t11,
    samples: { minik: r50, peer: c50 },
  });
  b.rows.push({
    case: "replica ramp",
    metric: `50 replicas → all Running, ${c}`,
    unit: "ms",
    minik: median(r50),
    peer: podmanPeer(p50),
  });
  b.rows.push({
    case: "replica ramp",
    metric: "100 replicas → all Running, 1 round",
    unit: "ms",
    minik: r100,
  });

  const mb = (kb: number) => kb / 1024;
  b.rows.push({
    case: "memory",
    metric:
      "daemon RSS just started, node mode (right after /readyz, before its first idle release; GC forced, median of 5)",
    unit: "MB",
    minik: mb(fresh.justStarted.daemonRssKb),
  });
  b.rows.push({
    case: "memory",
    metric:
      "daemon RSS idle, node mode (no objects, no pods; quiet: idle memory released, then 31 s with a resync; GC forced, median of 5)",
    unit: "MB",
    minik: mb(fresh.quiet.daemonRssKb),
    target: { op: "<=", value: 60, text: "≤ 60 MB" },
  });
  b.rows.push({
    case: "memory",
    metric: "daemon RSS before the ramp (after the other cases' objects; GC forced, median of 5)",
    unit: "MB",
    minik: mb(idle.daemonRssKb),
  });
  b.rows.push({
    case: "memory",
    metric: "daemon RSS with 50 pods (GC forced, median of 5)",
    unit: "MB",
    minik: mb(busy!.daemonRssKb),
  });
  b.rows.push({
    case: "memory",
    metric: "daemon CPU with 50 idle pods (incl. its helpers), over 5 s",
    unit: "ms/s",
    minik: idleCpu,
  });
  b.rows.push({
    case: "memory",
    metric: `PSS minik adds per pod ((with 50 − before the ramp)/50, median of ${rounds} rounds: ${perPodKb.map((k) => (k / 1024).toFixed(3)).join(", ")}; ${busy!.processes} processes${releasesBetween ? `; the daemon released idle memory between the samples ${releasesBetween}×` : ""})`,
    unit: "MB",
    minik: mb(median(perPodKb)),
    peer: { name: "conmon per container", value: peers.podman ? mb(conmon) : (peers.podmanMissing ?? "n/a") },
    target: { op: "<=", value: 0.2, text: "≤ 0.2 MB" },
  });
  b.rows.push({
    case: "teardown",
    metric: `delete 50-replica Deployment → containers gone, ${c}`,
    unit: "ms",
    minik: median(tdMinik),
    peer: {
      name: "podman rm -f ×50",
      value: peers.podman ? median(tdPodman) : (peers.podmanMissing ?? "n/a"),
    },
  });
  b.rows.push({
    case: "teardown",
    metric: `delete 50-replica Deployment → containers gone, ${c}`,
    unit: "ms",
    minik: median(tdMinik),
    peer: { name: "crun delete -f ×50", value: peers.crun ? median(tdCrun) : (peers.crunMissing ?? "n/a") },
    target: { op: "<=", value: 1.3, text: "≤ 1.3× crun (ratio)" },
    samples: { minik: tdMinik, peer: tdCrun },
  });
  b.rows.push({
    case: "teardown",
    metric: "delete 100-replica Deployment → containers gone",
    unit: "ms",
    minik: td100,
  });
}
