import { stringify } from "yaml";
import type { KubeObject } from "../../core/object.ts";
import { ApiClient, resourcePath } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { createDiscovery } from "../discovery.ts";
import { formatColumns } from "../printer.ts";
import { cronJobLines, jobLines } from "./describe-batch.ts";
import { resolveKinds } from "./kinds.ts";

/** `minik describe KIND [NAME]`: the object's key fields as kubectl lays them out, then its Events. */
export async function describe(
  kind: string,
  names: string[],
  opts: GlobalOptions & { allNamespaces?: boolean },
) {
  const api = new ApiClient(opts);
  const [info] = await resolveKinds(kind, createDiscovery(api));
  const namespace = opts.allNamespaces ? undefined : (opts.namespace ?? "default");
  let objects: KubeObject[];
  if (names.length) objects = await Promise.all(names.map((n) => api.get(resourcePath(info!, namespace, n))));
  else objects = (await api.get<{ items: KubeObject[] }>(resourcePath(info!, namespace))).items;
  const blocks: string[] = [];
  for (const obj of objects) blocks.push(await describeOne(api, { ...obj, kind: obj.kind ?? info!.kind }));
  console.log(blocks.join("\n\n"));
}

async function describeOne(api: ApiClient, obj: KubeObject): Promise<string> {
  const m = obj.metadata;
  const lines: [string, unknown][] = [
    ["Name", m.name],
    ...(m.namespace ? ([["Namespace", m.namespace]] as [string, unknown][]) : []),
    ["CreationTimestamp", m.creationTimestamp],
    ["Labels", kv(m.labels)],
    ["Annotations", kv(m.annotations, ["kubectl.kubernetes.io/last-applied-configuration"])],
  ];
  if (m.deletionTimestamp) lines.push(["DeletionTimestamp", m.deletionTimestamp]);
  const spec = (obj.spec ?? {}) as Record<string, any>;
  const status = (obj.status ?? {}) as Record<string, any>;
  switch (obj.kind) {
    case "Pod":
      lines.push(["Node", spec.nodeName ?? "<none>"], ["Start Time", status.startTime ?? "<none>"]);
      lines.push(["Status", m.deletionTimestamp ? "Terminating" : status.phase], ["IP", status.podIP ?? ""]);
      lines.push(["Controlled By", controller(obj)], ["QoS Class", status.qosClass ?? ""]);
      lines.push(["Containers", containers(spec.containers, status.containerStatuses)]);
      lines.push(["Conditions", conditions(status.conditions)]);
      break;
    case "Deployment":
      lines.push(["Selector", selector(spec.selector)]);
      lines.push([
        "Replicas",
        `${spec.replicas} desired | ${status.updatedReplicas ?? 0} updated | ${status.replicas ?? 0} total | ${status.availableReplicas ?? 0} available | ${status.unavailableReplicas ?? 0} unavailable`,
      ]);
      lines.push(["StrategyType", spec.strategy?.type], ["MinReadySeconds", spec.minReadySeconds ?? 0]);
      if (spec.strategy?.rollingUpdate) {
        lines.push([
          "RollingUpdateStrategy",
          `${spec.strategy.rollingUpdate.maxUnavailable} max unavailable, ${spec.strategy.rollingUpdate.maxSurge} max surge`,
        ]);
      }
      lines.push(["Pod Template", containers(spec.template?.spec?.containers, undefined)]);
      lines.push(["Conditions", conditions(status.conditions)]);
      break;
    case "Service":
      lines.push(["Selector", kv(spec.selector)], ["Type", spec.type], ["IP", spec.clusterIP]);
      for (const p of spec.ports ?? []) {
        lines.push(
          ["Port", `${p.name ?? "<unset>"}  ${p.port}/${p.protocol}`],
          ["TargetPort", `${p.targetPort}/${p.protocol}`],
        );
        if (p.nodePort) lines.push(["NodePort", `${p.name ?? "<unset>"}  ${p.nodePort}/${p.protocol}`]);
      }
      lines.push(["Session Affinity", spec.sessionAffinity]);
      break;
    case "Job":
      lines.push(
        ["Selector", selector(spec.selector)],
        ["Controlled By", controller(obj)],
        ...jobLines(obj as never),
      );
      lines.push(["Pod Template", containers(spec.template?.spec?.containers, undefined)]);
      lines.push(["Conditions", conditions(status.conditions)]);
      break;
    case "CronJob":
      lines.push(...cronJobLines(obj as never));
      lines.push(["Pod Template", containers(spec.jobTemplate?.spec?.template?.spec?.containers, undefined)]);
      break;
    default:
      if (obj.spec) lines.push(["Spec", indentYaml(obj.spec)]);
      if (obj.status) lines.push(["Status", indentYaml(obj.status)]);
      if (obj.data) lines.push(["Data", indentYaml(obj.kind === "Secret" ? redact(obj.data) : obj.data)]);
  }
  lines.push(["Events", await events(api, obj)]);
  return lines
    .map(([k, v]) => `${`${k}:`.padEnd(Math.max(20, k.length + 2))}${String(v ?? "<none>")}`)
    .join("\n");
}

function kv(map: Record<string, string> | undefined, hide: string[] = []): string {
  const entries = Object.entries(map ?? {}).filter(([k]) => !hide.includes(k));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join("\n                    ") : "<none>";
}

function selector(sel: any): string {
  return kv(sel?.matchLabels).replaceAll("\n                    ", ",");
}

function controller(obj: KubeObject): string {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller);
  return ref ? `${ref.kind}/${ref.name}` : "<none>";
}

function containers(specs: any[] | undefined, statuses: any[] | undefined): string {
  const out: string[] = [];
  for (const c of specs ?? []) {
    const st = statuses?.find((s) => s.name === c.name);
    out.push(`\n  ${c.name}:`, `    Image:          ${c.image}`);
    if (c.ports?.length)
      out.push(
        `    Port:           ${c.ports.map((p: any) => `${p.containerPort}/${p.protocol ?? "TCP"}`).join(", ")}`,
      );
    if (st) {
      const [state, detail] = Object.entries(st.state ?? {})[0] ?? ["unknown", {}];
      out.push(`    State:          ${state[0]!.toUpperCase()}${state.slice(1)}`);
      const d = detail as Record<string, unknown>;
      if (d.reason) out.push(`      Reason:       ${d.reason}`);
      if (d.exitCode !== undefined) out.push(`      Exit Code:    ${d.exitCode}`);
      out.push(
        `    Ready:          ${st.ready ? "True" : "False"}`,
        `    Restart Count:  ${st.restartCount ?? 0}`,
      );
    }
    if (c.resources?.limits)
      out.push(`    Limits:         ${kv(c.resources.limits).replaceAll("\n                    ", ", ")}`);
    if (c.resources?.requests)
      out.push(`    Requests:       ${kv(c.resources.requests).replaceAll("\n                    ", ", ")}`);
  }
  return out.join("\n");
}

function conditions(list: any[] | undefined): string {
  if (!list?.length) return "<none>";
  return `\n${formatColumns([["  Type", "Status", "Reason"], ...list.map((c) => [`  ${c.type}`, c.status, c.reason ?? ""])])}`;
}

function indentYaml(v: unknown): string {
  return `\n${stringify(v)
    .trimEnd()
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")}`;
}

function redact(data: Record<string, string> | object): Record<string, string> {
  // Secrets show sizes, never values, as kubectl describe does
  return Object.fromEntries(
    Object.entries(data as Record<string, string>).map(([k, v]) => [
      k,
      `${Math.floor((v.length * 3) / 4)} bytes`,
    ]),
  );
}

async function events(api: ApiClient, obj: KubeObject): Promise<string> {
  const ns = obj.metadata.namespace ?? "default";
  const fieldSelector = `involvedObject.name=${obj.metadata.name},involvedObject.kind=${obj.kind},involvedObject.uid=${obj.metadata.uid}`;
  try {
    const list = await api.get<{ items: any[] }>(`/api/v1/namespaces/${ns}/events`, {
      query: { fieldSelector },
    });
    if (!list.items.length) return "<none>";
    const rows = list.items
      .sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)))
      .map((e) => [
        `  ${e.type}`,
        e.reason,
        age(e.lastTimestamp, e.count),
        e.source?.component ?? "",
        e.message,
      ]);
    return `\n${formatColumns([["  Type", "Reason", "Age", "From", "Message"], ["  ----", "------", "----", "----", "-------"], ...rows])}`;
  } catch {
    return "<unknown>";
  }
}

function age(ts: string | undefined, count: number | undefined): string {
  if (!ts) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  const a = s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
  return count && count > 1 ? `${a} (x${count})` : a;
}
