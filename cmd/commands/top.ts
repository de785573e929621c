import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { formatColumns } from "../printer.ts";

/** `minik top pods`: CPU (millicores) and memory (MiB) per pod from the metrics.k8s.io API. */
export async function topPods(opts: GlobalOptions & { allNamespaces?: boolean }) {
  const api = new ApiClient(opts);
  const path = opts.allNamespaces
    ? "/apis/metrics.k8s.io/v1beta1/pods"
    : `/apis/metrics.k8s.io/v1beta1/namespaces/${opts.namespace ?? "default"}/pods`;
  const list = await api.get<{ items: any[] }>(path);
  if (!list.items.length) {
    console.error("No resources found");
    return;
  }
  const rows = list.items.map((p) => {
    let cpu = 0;
    let mem = 0;
    for (const c of p.containers ?? []) {
      cpu += cpuMillis(c.usage?.cpu ?? "0");
      mem += bytes(c.usage?.memory ?? "0");
    }
    const base = [p.metadata.name, `${Math.round(cpu)}m`, `${Math.round(mem / 1024 / 1024)}Mi`];
    return opts.allNamespaces ? [p.metadata.namespace, ...base] : base;
  });
  const head = ["NAME", "CPU(cores)", "MEMORY(bytes)"];
  console.log(formatColumns([opts.allNamespaces ? ["NAMESPACE", ...head] : head, ...rows]));
}

function cpuMillis(q: string): number {
  if (q.endsWith("n")) return Number(q.slice(0, -1)) / 1e6;
  if (q.endsWith("u")) return Number(q.slice(0, -1)) / 1e3;
  if (q.endsWith("m")) return Number(q.slice(0, -1));
  return Number(q) * 1000;
}

function bytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (!m) return 0;
  const mult: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}
