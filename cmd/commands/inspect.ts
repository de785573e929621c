import { stringify } from "yaml";
import type { ContainerInspection, LayerView } from "../../core/seams/inspection.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { UsageError } from "../usage-error.ts";

export interface InspectOptions extends GlobalOptions {
  container?: string;
  output?: string;
}

/** `minik inspect pod/NAME`: what a container is made of, as the kernel sees it. */
export async function inspect(target: string, opts: InspectOptions): Promise<void> {
  const m = /^(?:(?:pods?|po)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(target);
  if (!m) throw new UsageError(`minik inspect takes pod/NAME (or a pod name), not "${target}"`);
  if (opts.output && !["json", "yaml"].includes(opts.output))
    throw new UsageError(`--output must be json or yaml, not "${opts.output}"`);
  const ns = opts.namespace ?? "default";
  const api = new ApiClient(opts);
  const path = `/minik/v1/namespaces/${ns}/pods/${encodeURIComponent(m[1]!)}/inspect`;
  const query = opts.container ? `?container=${encodeURIComponent(opts.container)}` : "";
  const result = await api.get<ContainerInspection & { pod: string; namespace: string }>(`${path}${query}`);
  if (opts.output === "json") console.log(JSON.stringify(result, null, 2));
  else if (opts.output === "yaml") process.stdout.write(stringify(result));
  else console.log(renderInspection(result));
}

/** The article's three pictures in text: namespaces, cgroup limits, the layer stack. */
export function renderInspection(c: ContainerInspection & { pod?: string; namespace?: string }): string {
  const out: string[] = [];
  out.push(`Container:  ${c.name} (${c.id}) in pod ${c.namespace ?? "default"}/${c.pod ?? "?"}`);
  out.push(`State:      ${c.state}`);
  out.push(`Image:      ${c.image}`);
  if (c.pid) out.push(`PID:        ${c.pid.host} on the host, ${c.pid.inContainer ?? "?"} inside`);
  if (c.namespaces.length) {
    out.push("", "Namespaces:");
    for (const n of c.namespaces) {
      const shared =
        n.sharedWith === "pod" ? "shared with the pod" : n.sharedWith === "host" ? "the host's" : "its own";
      out.push(`  ${n.type.padEnd(7)} ${`${n.type}:[${n.inode}]`.padEnd(20)} ${shared}`);
    }
  }
  if (c.cgroup) {
    out.push("", `Cgroup (${c.cgroup.mode}): ${c.cgroup.path}`);
    const cpu = c.cgroup.cpu;
    const cpuText = cpu?.quotaMicros
      ? `quota ${cpu.quotaMicros} / period ${cpu.periodMicros} µs = ${cpu.percentOfOneCpu}% of one CPU`
      : "no limit";
    out.push(`  cpu     ${cpuText}`);
    out.push(
      `  memory  ${c.cgroup.memoryMaxBytes !== undefined ? `${c.cgroup.memoryMaxBytes} bytes (${mib(c.cgroup.memoryMaxBytes)})` : "no limit"}`,
    );
    out.push(`  pids    ${c.cgroup.pidsMax ?? "no limit"}`);
  }
  out.push("", "Root filesystem (overlayfs, top first):");
  for (const l of c.rootfs.layers) out.push(`  ${layerLine(l)}`);
  const ch = c.rootfs.changes;
  out.push("", "Changes in the read-write layer:");
  if (!ch.added.length && !ch.modified.length && !ch.deleted.length) out.push("  (none)");
  for (const p of ch.added) out.push(`  A ${p}`);
  for (const p of ch.modified) out.push(`  C ${p}`);
  for (const p of ch.deleted) out.push(`  D ${p}  (whiteout)`);
  if (ch.truncated) out.push("  … (more changes not listed)");
  if (c.rootfs.mount) out.push("", "Mount:", `  ${c.rootfs.mount}`);
  for (const n of c.notes) out.push("", `Note: ${n}`);
  return out.join("\n");
}

function layerLine(l: LayerView): string {
  if (l.role === "container") return `rw     ${l.dir}`;
  if (l.role === "init")
    return `init   ${l.dir}  (${(l.files ?? []).join(", ") || "empty"}; never committed)`;
  const size = l.sizeBytes !== undefined ? ` ${humanBytes(l.sizeBytes)}` : "";
  const by = l.createdBy ? `  ${l.createdBy.replace(/\s+/g, " ").slice(0, 60)}` : "";
  return `ro     ${(l.digest ?? "").replace(/^sha256:/, "").slice(0, 12)}${size}${by}`;
}

function humanBytes(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : mib(bytes);
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
