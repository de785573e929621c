import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from "kubernetes-types/networking/v1";
import type { PolicyProtocol, PolicyRuleView, PolicyView } from "../seams/policy-enforcer.ts";
import { labelSelectorFromObject, type Selector } from "../selectors.ts";
import { formatIPv4, parseIPv4 } from "./cidr.ts";

/**
 * NetworkPolicies resolved to addresses for the node's enforcer, from the informers' Pods and
 * Namespaces. Pure: same input, same output (sorted), so the controller can skip unchanged views.
 * Work is O(policies × rules × pods); the output is sets of addresses, never pod pairs.
 *
 * Upstream semantics: a peer's podSelector alone means pods of the policy's namespace, a
 * namespaceSelector alone every pod of the matching namespaces, both together the matching pods
 * of the matching namespaces; an ipBlock is its CIDR minus `except`. A named port is resolved
 * against the destination pod's container ports (the selected pod for ingress, the peer for
 * egress). IPv6 ipBlocks match nothing here: pods have IPv4 addresses only.
 */
export interface PolicyWorld {
  policies: NetworkPolicy[];
  pods: Pod[];
  namespaces: Namespace[];
}

interface LivePod {
  ip: string;
  namespace: string;
  labels: Record<string, string>;
  pod: Pod;
}

export function policyView(world: PolicyWorld): PolicyView[] {
  const pods = livePods(world.pods);
  const nsLabels = new Map(world.namespaces.map((n) => [n.metadata?.name ?? "", n.metadata?.labels ?? {}]));
  const views: PolicyView[] = [];
  for (const np of world.policies) {
    const namespace = np.metadata?.namespace ?? "";
    const spec = np.spec;
    const selector = labelSelectorFromObject(spec?.podSelector);
    const selected = pods.filter((p) => p.namespace === namespace && selector.matches(p.labels));
    const types = spec?.policyTypes?.length
      ? spec.policyTypes
      : ["Ingress", ...(spec?.egress?.length ? ["Egress"] : [])];
    const view: PolicyView = {
      key: `${namespace}/${np.metadata?.name}`,
      pods: sortIps(selected.map((p) => p.ip)),
    };
    const ctx = { namespace, pods, nsLabels };
    if (types.includes("Ingress")) {
      view.ingress = (spec?.ingress ?? []).flatMap(
        (r) => ruleView(ctx, r.from, r.ports, () => selected) ?? [],
      );
    }
    if (types.includes("Egress")) {
      // An egress named port is the destination pod's: any pod the rule's peers take in.
      view.egress = (spec?.egress ?? []).flatMap(
        (r) =>
          ruleView(ctx, r.to, r.ports, (peers) =>
            peers ? pods.filter((p) => inRanges(peers, p.ip)) : pods,
          ) ?? [],
      );
    }
    views.push(view);
  }
  return views.sort((a, b) => a.key.localeCompare(b.key));
}

interface Context {
  namespace: string;
  pods: LivePod[];
  nsLabels: Map<string, Record<string, string>>;
}

/**
 * One rule, or undefined when it can allow nothing (peers given but none exist, ports given but
 * none resolve). `destinations` picks the pods whose named ports count.
 */
function ruleView(
  ctx: Context,
  peers: readonly NetworkPolicyPeer[] | undefined,
  ports: readonly NetworkPolicyPort[] | undefined,
  destinations: (peers: Range[] | undefined) => LivePod[],
): PolicyRuleView | undefined {
  const rule: PolicyRuleView = {};
  let merged: Range[] | undefined;
  if (peers?.length) {
    const ranges: Range[] = [];
    for (const peer of peers) {
      if (peer.ipBlock) ranges.push(...ipBlockRanges(peer.ipBlock.cidr, peer.ipBlock.except ?? []));
      else ranges.push(...peerMatches(ctx, peer).map((p) => single(parseIPv4(p.ip)!)));
    }
    if (!ranges.length) return undefined;
    merged = mergeRanges(ranges);
    rule.peers = merged.map(formatRange);
  }
  if (ports?.length) {
    const numeric: NonNullable<PolicyRuleView["ports"]> = [];
    const named: NonNullable<PolicyRuleView["namedPorts"]> = [];
    for (const port of ports) {
      const protocol = (port.protocol ?? "TCP") as PolicyProtocol;
      if (port.port === undefined) numeric.push({ protocol, from: 0, to: 65535 });
      else if (typeof port.port === "number")
        numeric.push({ protocol, from: port.port, to: port.endPort ?? port.port });
      else named.push(...namedPortTargets(destinations(merged), port.port, protocol));
    }
    if (!numeric.length && !named.length) return undefined;
    rule.ports = numeric;
    rule.namedPorts = dedupe(named);
  }
  return rule;
}

function peerMatches(ctx: Context, peer: NetworkPolicyPeer): LivePod[] {
  const podSel = peer.podSelector ? labelSelectorFromObject(peer.podSelector) : undefined;
  let inNamespace: (ns: string) => boolean;
  if (peer.namespaceSelector) {
    const nsSel: Selector = labelSelectorFromObject(peer.namespaceSelector);
    inNamespace = (ns) => nsSel.matches(ctx.nsLabels.get(ns) ?? {});
  } else inNamespace = (ns) => ns === ctx.namespace;
  return ctx.pods.filter((p) => inNamespace(p.namespace) && (!podSel || podSel.matches(p.labels)));
}

function namedPortTargets(
  pods: LivePod[],
  name: string,
  protocol: PolicyProtocol,
): NonNullable<PolicyRuleView["namedPorts"]> {
  const out: NonNullable<PolicyRuleView["namedPorts"]> = [];
  for (const p of pods) {
    for (const c of p.pod.spec?.containers ?? []) {
      for (const cp of c.ports ?? []) {
        if (cp.name === name && (cp.protocol ?? "TCP") === protocol)
          out.push({ ip: p.ip, protocol, port: cp.containerPort });
      }
    }
  }
  return out;
}

/** Pods with an IPv4 address that can still send or receive: not finished, not on the host network. */
function livePods(pods: Pod[]): LivePod[] {
  const out: LivePod[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    const phase = pod.status?.phase;
    if (!ip || parseIPv4(ip) === undefined || phase === "Succeeded" || phase === "Failed") continue;
    if (pod.spec?.hostNetwork) continue;
    out.push({ ip, namespace: pod.metadata?.namespace ?? "", labels: pod.metadata?.labels ?? {}, pod });
  }
  return out;
}

// ---- address ranges ----

/** An inclusive range of IPv4 addresses as unsigned 32-bit numbers. */
interface Range {
  from: number;
  to: number;
}

const single = (n: number): Range => ({ from: n, to: n });

function cidrRange(text: string): Range | undefined {
  const [addr, bits] = text.split("/");
  const ip = parseIPv4(addr ?? "");
  const n = Number(bits);
  if (ip === undefined || !/^\d{1,2}$/.test(bits ?? "") || n > 32) return undefined;
  const size = 2 ** (32 - n);
  const from = ip - (ip % size);
  return { from, to: from + size - 1 };
}

/** The CIDR minus every `except` (each validated to lie strictly inside it). */
export function ipBlockRanges(cidr: string, except: readonly string[]): Range[] {
  const whole = cidrRange(cidr);
  if (!whole) return [];
  let out = [whole];
  for (const text of except) {
    const hole = cidrRange(text);
    if (!hole) continue;
    out = out.flatMap((r) => {
      if (hole.to < r.from || hole.from > r.to) return [r];
      const parts: Range[] = [];
      if (hole.from > r.from) parts.push({ from: r.from, to: hole.from - 1 });
      if (hole.to < r.to) parts.push({ from: hole.to + 1, to: r.to });
      return parts;
    });
  }
  return out;
}

/** Sorted, with overlapping and adjacent ranges joined (nft refuses overlapping set intervals). */
export function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

function inRanges(ranges: Range[], ip: string): boolean {
  const n = parseIPv4(ip)!;
  return ranges.some((r) => n >= r.from && n <= r.to);
}

function formatRange(r: Range): string {
  return r.from === r.to ? formatIPv4(r.from) : `${formatIPv4(r.from)}-${formatIPv4(r.to)}`;
}

function sortIps(ips: string[]): string[] {
  return [...new Set(ips)].sort((a, b) => parseIPv4(a)! - parseIPv4(b)!);
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    return !seen.has(k) && !!seen.add(k);
  });
}
