/**
 * Seed flow: `minik apply -f examples/nginx-deployment.yaml` (the article's manifest, nginx:1.7.9
 * from the mirrored test registry, image cached by a warm-up run) → both pods answer HTTP on their
 * pod IPs. Peer: `podman kube play` of the same Deployment (apps/v1, image pointing at the test
 * registry, since podman knows no extensions/v1beta1 and no mirror), until both containers answer.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Bench, type Minik, median, NS, now, percentile, ROOT, waitFor, watch } from "../lib.ts";
import type { Peers } from "../peers.ts";
import { deletePods } from "./pod-start.ts";
import { leftovers, podHostState } from "./teardown-leftovers.ts";

let podmanReplicas = 0;
const SEED = join(ROOT, "examples/nginx-deployment.yaml");

/** One GET to the pod; false on any error or after 500 ms (a pod whose netns vanished never answers). */
export async function answers(ip: string): Promise<boolean> {
  const get = fetch(`http://${ip}/`, { signal: AbortSignal.timeout(500) })
    .then(async (r) => {
      await r.arrayBuffer();
      return r.ok;
    })
    .catch(() => false);
  return Promise.race([get, Bun.sleep(600).then(() => false)]);
}

/**
 * One sample; undefined when it did not finish within 20 s — on this shared machine another
 * engineer's `minik up` removes every minik-* netns it does not know, ours included. The pod IPs
 * come from a watch opened before the clock starts (as in the pod-start case), and only the pods
 * are polled, as for podman (whose IPs are read once after `kube play`): polling the API for them
 * every 2 ms would have minik serve ~25 lists while it starts the pods.
 */
async function minikSeed(m: Minik): Promise<number | undefined> {
  const ips = new Set<string>();
  const w = watch(m, `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dnginx-server`, (ev) => {
    const ip = ev.object?.status?.podIP;
    if (ev.type !== "DELETED" && ip) ips.add(ip);
  });
  await w.ready;
  const t0 = now();
  let ms: number | undefined;
  try {
    const r = await m.cli(["apply", "-n", NS, "-f", SEED]);
    if (r.code !== 0) throw new Error(`minik apply: ${r.stderr}`);
    const ok = new Set<string>();
    await waitFor(
      async () => {
        const todo = [...ips].filter((ip) => !ok.has(ip));
        for (const [i, yes] of (await Promise.all(todo.map(answers))).entries()) if (yes) ok.add(todo[i]!);
        return ok.size >= 2;
      },
      "both seed pods answering",
      20_000,
      2,
    );
    ms = now() - t0;
  } catch (e) {
    console.error(`[bench] seed sample discarded: ${(e as Error).message}`);
  } finally {
    w.close();
  }
  await removeSeed(m);
  return ms;
}

/**
 * Deletes the seed Deployment and waits until its ReplicaSet and pods are gone, and then (untimed)
 * until their host state is too (netns, veth, mounts, cgroups, data dirs): `podman kube down`
 * returns only once its pods are removed, so a minik sample must not run beside the last one's
 * clean-up either (a netns deletion holds the kernel's RTNL lock the next sandbox needs).
 */
export async function removeSeed(m: Minik): Promise<void> {
  const pods = await m.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dnginx-server`);
  const host = podHostState(
    m.dataDir,
    pods.items.map((p: any) => p.metadata.uid),
  );
  await m.api("DELETE", `/apis/apps/v1/namespaces/${NS}/deployments/nginx-deployment`, {
    propagationPolicy: "Background",
  });
  await waitFor(
    async () => (await m.json("GET", `/apis/apps/v1/namespaces/${NS}/replicasets`)).items.length === 0,
    "seed replicasets gone",
    30_000,
    20,
  );
  await deletePods(m, "app=nginx-server");
  await waitFor(
    async () => (await leftovers(m.dataDir, host)).length === 0,
    "seed pods' host state gone",
    30_000,
    50,
  );
}

async function podmanSeed(peers: Peers, yaml: string): Promise<number> {
  const pm = peers.podman!;
  const t0 = now();
  await pm.play(yaml);
  const ips = (
    await peers.shell.exec(
      `${pm.G} pod ps -q | xargs -r ${pm.G} pod inspect --format '{{.InfraContainerID}}' | xargs -r ${pm.G} inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}'`,
    )
  ).out
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  if (ips.length === 0) throw new Error("podman kube play: no pod IPs");
  podmanReplicas = ips.length;
  await waitFor(
    async () => (await Promise.all(ips.map(answers))).every(Boolean),
    "podman seed pods answering",
    30_000,
    2,
  );
  const ms = now() - t0;
  await pm.down(yaml);
  return ms;
}

export async function seedFlowCase(b: Bench, m: Minik, peers: Peers, workDir: string, samples = 5) {
  // podman: the same Deployment, apps/v1, image by its test-registry name, no ports
  const yaml = join(workDir, "seed-podman.yaml");
  writeFileSync(
    yaml,
    readFileSync(SEED, "utf8")
      .replace("extensions/v1beta1", "apps/v1")
      .replace("image: nginx:1.7.9", "image: 127.0.0.1:5100/library/nginx:1.7.9")
      // podman 4.3 publishes every containerPort on the host: two replicas would fight for :80
      .replace(/\n\s*ports:\n\s*- containerPort: 80/, ""),
  );
  let podmanWhy = peers.podmanMissing;
  if (peers.podman) {
    const pull = await peers.shell.exec(
      `${peers.podman.G} pull -q --tls-verify=false 127.0.0.1:5100/library/nginx:1.7.9`,
    );
    if (pull.code !== 0) podmanWhy = `n/a (podman pull nginx: ${pull.out.trim().split("\n").pop()})`;
  }
  await minikSeed(m); // warm-up: the nginx:1.7.9 image into the cache
  const mk: number[] = [];
  const pm: number[] = [];
  let discarded = 0;
  for (let i = 0; i < samples; i++) {
    const ms = await minikSeed(m);
    if (ms === undefined) discarded++;
    else mk.push(ms);
    if (peers.podman && !podmanWhy) {
      try {
        pm.push(await podmanSeed(peers, yaml));
      } catch (e) {
        podmanWhy = `n/a (${(e as Error).message.split("\n")[0]?.slice(0, 80)})`;
        await peers.podman.down(yaml);
      }
    }
  }
  b.log(
    `seed minik ms: ${mk.map((v) => v.toFixed(0)).join(" ")}; podman: ${pm.map((v) => v.toFixed(0)).join(" ")}`,
  );
  b.rows.push({
    case: "seed flow",
    metric: `apply 2-replica Deployment → both answer HTTP, p50 of ${mk.length}${discarded ? ` (${discarded} disturbed samples discarded)` : ""}`,
    unit: "ms",
    minik: median(mk),
    peer: {
      name: `podman kube play (${podmanReplicas} pod${podmanReplicas === 1 ? ", it ignores replicas" : "s"})`,
      value: podmanWhy ?? median(pm),
    },
    target: { op: "<=", value: 0.15, text: "≤ 0.15× podman (ratio)" },
    samples: { minik: mk, peer: pm },
  });
  b.rows.push({
    case: "seed flow",
    metric: `apply 2-replica Deployment → both answer HTTP, p50 of ${mk.length}`,
    unit: "ms",
    minik: median(mk),
    target: { op: "<=", value: 100, text: "≤ 100 ms (quiet machine)" },
  });
  b.rows.push({
    case: "seed flow",
    metric: `apply 2-replica Deployment → both answer HTTP, max of ${mk.length}`,
    unit: "ms",
    minik: percentile(mk, 100),
    peer: { name: "podman kube play", value: podmanWhy ?? percentile(pm, 100) },
  });
}
