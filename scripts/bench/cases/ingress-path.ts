/**
 * Ingress data path: wrk through the built-in ingress controller (host routing, HTTP proxy in
 * the minik process, a new connection to the pod per request) vs straight to a pod IP, to
 * identical busybox-httpd pods, alternating short runs in the same minik as the Service row.
 */
import { type Bench, isRunning, type Minik, median, NS, waitFor } from "../lib.ts";
import { deploymentManifest } from "./replica-ramp.ts";
import { answers } from "./seed-flow.ts";
import { type WrkResult, wrk } from "./service-path.ts";

const HOST = "bench.ingress.test";

/** One GET through the ingress with the bench host; true on 200. */
async function routed(ingressPort: number): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${ingressPort}/`, {
    headers: { host: HOST },
    signal: AbortSignal.timeout(1000),
  }).catch(() => undefined);
  await r?.arrayBuffer();
  return r?.status === 200;
}

export async function ingressPathCase(b: Bench, m: Minik, ingressPort: number, rounds = 2, seconds = 3) {
  if (!Bun.which("wrk")) {
    b.rows.push({
      case: "ingress data path",
      metric: "throughput",
      unit: "req/s",
      minik: "n/a (wrk not installed)",
    });
    return;
  }
  for (const name of ["ing", "ingdirect"])
    await m.json("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deploymentManifest(name, 1));
  await m.json("POST", `/api/v1/namespaces/${NS}/services`, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "ing" },
    spec: { selector: { app: "ing" }, ports: [{ port: 80, targetPort: 80 }] },
  });
  await m.json("POST", `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`, {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "ing" },
    spec: {
      rules: [
        {
          host: HOST,
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: "ing", port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  });
  const pod = await waitFor(
    async () =>
      (await m.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dingdirect`)).items.find(
        isRunning,
      ),
    "direct pod Running",
    60_000,
    20,
  );
  const podIP = pod.status.podIP as string;
  await waitFor(() => answers(podIP), `pod ${podIP} answering`, 30_000, 20);
  await waitFor(() => routed(ingressPort), `${HOST} answering through the ingress`, 30_000, 20);
  const direct: WrkResult[] = [];
  const viaIngress: WrkResult[] = [];
  for (let i = 0; i < rounds; i++) {
    direct.push(await wrk(`http://${podIP}/`, seconds));
    viaIngress.push(await wrk(`http://127.0.0.1:${ingressPort}/`, seconds, [`Host: ${HOST}`]));
  }
  b.log(`ingress path: direct ${JSON.stringify(direct)} via ingress ${JSON.stringify(viaIngress)}`);
  const rps = (x: WrkResult[]) => median(x.map((r) => r.rps));
  const p99 = (x: WrkResult[]) => median(x.map((r) => r.p99));
  const errors = [...viaIngress, ...direct].reduce((s, r) => s + r.errors, 0);
  const note = `wrk -t2 -c8 -d${seconds}s, ${rounds} alternating runs each; ${errors} errors (socket or non-2xx)`;
  b.rows.push({
    case: "ingress data path",
    metric: "HTTP throughput via Ingress",
    unit: "req/s",
    minik: rps(viaIngress),
    peer: { name: "direct to pod IP", value: rps(direct) },
    note,
  });
  b.rows.push({
    case: "ingress data path",
    metric: "HTTP p99 latency via Ingress",
    unit: "ms",
    minik: p99(viaIngress),
    peer: { name: "direct to pod IP", value: p99(direct) },
  });
  await m.api("DELETE", `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/ing`);
  await m.api("DELETE", `/api/v1/namespaces/${NS}/services/ing`);
  for (const name of ["ing", "ingdirect"])
    await m.json("DELETE", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`, {
      propagationPolicy: "Background",
    });
}
