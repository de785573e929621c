import type { ProxyServicePort } from "../../core/seams/service-proxy.ts";
import { run } from "./exec.ts";

/**
 * UDP has no connection end: a conntrack entry DNATing a client's flow to an endpoint that left
 * keeps sending it there until the entry times out (up to minutes), and a flow that arrived while
 * a Service had no endpoints stays un-NATed. After each sync these entries are deleted, as
 * kube-proxy does, with the `conntrack` tool (Debian package `conntrack`); without it, UDP
 * clients may stick to a removed endpoint for a while.
 */
export interface FlowFilter {
  origDst?: string;
  origPortDst?: number;
  dstNat?: string;
}

/** Which UDP flows the change from `before` to `after` leaves pointing at the wrong place. Pure. */
export function staleUdpFlows(before: ProxyServicePort[], after: ProxyServicePort[]): FlowFilter[] {
  const out: FlowFilter[] = [];
  const prior = new Map(before.filter((s) => s.protocol === "UDP").map((s) => [s.key, s]));
  const next = new Map(after.filter((s) => s.protocol === "UDP").map((s) => [s.key, s]));
  for (const [key, old] of prior) {
    const now = next.get(key);
    const kept = new Set((now?.endpoints ?? []).map((e) => e.ip));
    for (const ip of new Set(old.endpoints.map((e) => e.ip))) {
      if (kept.has(ip)) continue;
      if (old.clusterIP) out.push({ origDst: old.clusterIP, dstNat: ip });
      if (old.nodePort) out.push({ origPortDst: old.nodePort, dstNat: ip });
    }
  }
  for (const [key, now] of next) {
    const old = prior.get(key);
    if (now.endpoints.length && !old?.endpoints.length && now.clusterIP) {
      out.push({ origDst: now.clusterIP, origPortDst: now.port });
    }
  }
  return out;
}

let available: boolean | undefined;

export async function deleteUdpFlows(filters: FlowFilter[]): Promise<void> {
  if (!filters.length) return;
  available ??= Bun.which("conntrack") !== null;
  if (!available) return;
  for (const f of filters) {
    const args = ["conntrack", "-D", "-p", "udp"];
    if (f.origDst) args.push("--orig-dst", f.origDst);
    if (f.origPortDst) args.push("--orig-port-dst", String(f.origPortDst));
    if (f.dstNat) args.push("--dst-nat", f.dstNat);
    await run(args); // exit 1 = nothing matched
  }
}
