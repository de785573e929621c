/**
 * Service data path: wrk through the Service's ClusterIP (nftables DNAT) vs straight to the pod IP,
 * to an identical busybox-httpd pod (one connection per request: busybox httpd does not keep alive).
 * Short alternating runs (source ports wrap in ~7 s at 4k connections/s and then SYNs meet
 * TIME_WAIT), so load drift hits both alike.
 */
import { readFileSync } from "node:fs";
import { type Bench, isRunning, type Minik, median, NS, run, waitFor } from "../lib.ts";
import { deploymentManifest } from "./replica-ramp.ts";
import { answers } from "./seed-flow.ts";

export interface WrkResult {
  rps: number;
  p99: number;
  errors: number;
  /** Host-wide, so other traffic on the machine counts too. */
  synRetransmits: number;
}

function parseLatency(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

/** The host's TcpExt SYN retransmit counter: wrk's latency misses connects that stall. */
function synRetrans(): number {
  const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
  const i = lines.findIndex((l) => l.startsWith("TcpExt:"));
  const keys = lines[i]?.split(" ") ?? [];
  const vals = lines[i + 1]?.split(" ") ?? [];
  return Number(vals[keys.indexOf("TCPSynRetrans")] ?? 0);
}

export async function wrk(url: string, seconds: number, headers: string[] = []): Promise<WrkResult> {
  const syn0 = synRetrans();
  const h = headers.flatMap((x) => ["-H", x]);
  const r = await run(["wrk", "-t2", "-c8", `-d${seconds}s`, "--latency", ...h, url]);
  const synRetransmits = synRetrans() - syn0;
  if (r.code !== 0) throw new Error(`wrk ${url}: ${r.stderr || r.stdout}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99 = parseLatency(/^\s+99%\s+(\S+)/m.exec(r.stdout)?.[1] ?? "");
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(r.stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  const errors = (errs ? errs.slice(1).reduce((s, v) => s + Number(v), 0) : 0) + non2xx;
  return { rps, p99, errors, synRetransmits };
}

export async function servicePathCase(b: Bench, m: Minik, rounds = 2, seconds = 3) {
  if (!Bun.which("wrk")) {
    b.rows.push({
      case: "service data path",
      metric: "throughput",
      unit: "req/s",
      minik: "n/a (wrk not installed)",
    });
    return;
  }
  // two identical backends: each keeps its own TIME_WAIT table (busybox closes first), so one
  // path's closed connections never stall the other's SYNs
  for (const name of ["svc", "direct"])
    await m.json("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deploymentManifest(name, 1));
  const svc = await m.json("POST", `/api/v1/namespaces/${NS}/services`, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "svc" },
    spec: { selector: { app: "svc" }, ports: [{ port: 80, targetPort: 80 }] },
  });
  const clusterIP = svc.spec.clusterIP as string;
  const pod = await waitFor(
    async () =>
      (await m.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Ddirect`)).items.find(isRunning),
    "direct pod Running",
    60_000,
    20,
  );
  const podIP = pod.status.podIP as string;
  await waitFor(() => answers(podIP), `pod ${podIP} answering`, 30_000, 20);
  await waitFor(() => answers(clusterIP), `Service ${clusterIP} answering`, 30_000, 20);
  const direct: WrkResult[] = [];
  const viaSvc: WrkResult[] = [];
  for (let i = 0; i < rounds; i++) {
    direct.push(await wrk(`http://${podIP}/`, seconds));
    viaSvc.push(await wrk(`http://${clusterIP}/`, seconds));
  }
  b.log(`service path: direct ${JSON.stringify(direct)} via ClusterIP ${JSON.stringify(viaSvc)}`);
  const rps = (x: WrkResult[]) => median(x.map((r) => r.rps));
  const p99 = (x: WrkResult[]) => median(x.map((r) => r.p99));
  const errors = viaSvc.reduce((s, r) => s + r.errors, 0) + direct.reduce((s, r) => s + r.errors, 0);
  const syn = (x: WrkResult[]) => x.reduce((n, r) => n + r.synRetransmits, 0);
  const note = `wrk -t2 -c8 -d${seconds}s, ${rounds} alternating runs each; ${errors} socket errors; host SYN retransmits ${syn(direct)} direct, ${syn(viaSvc)} via ClusterIP`;
  b.rows.push({
    case: "service data path",
    metric: "HTTP throughput via ClusterIP",
    unit: "req/s",
    minik: rps(viaSvc),
    peer: { name: "direct to pod IP", value: rps(direct) },
    target: { op: ">=", value: 0.95, text: "≥ 0.95× direct (ratio)" },
    note,
  });
  b.rows.push({
    case: "service data path",
    metric: "HTTP p99 latency via ClusterIP",
    unit: "ms",
    minik: p99(viaSvc),
    peer: { name: "direct to pod IP", value: p99(direct) },
  });
  await m.api("DELETE", `/api/v1/namespaces/${NS}/services/svc`);
  for (const name of ["svc", "direct"])
    await m.json("DELETE", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`, {
      propagationPolicy: "Background",
    });
}
