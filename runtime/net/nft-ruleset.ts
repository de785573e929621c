import { firstHost, formatIPv4, parseCidr, parseIPv4 } from "../../core/network/cidr.ts";
import type { ProxyServicePort, ProxyWarning } from "../../core/seams/service-proxy.ts";
import type { HostPortMapping } from "./host-ports.ts";

/**
 * Renders minik's one nftables table, to be loaded with `nft -f` as a single transaction (the
 * table is deleted and rebuilt atomically; traffic never sees a half-written table). Pure, so
 * tests can read the text. Layout (measured in the networking reference):
 * - `svc_ip` (ClusterIP . proto . port) and `svc_nodeport` (proto . port) verdict maps → one chain
 *   per service port, whose rule DNATs to `numgen random mod N` of the ready endpoints;
 * - ClientIP affinity: one timeout set of clients per endpoint, checked before the random pick;
 * - services without endpoints are rejected (refused at once instead of timing out);
 * - hostPorts: DNAT from the host's addresses (or the one hostIP) to the pod;
 * - masquerade of DNATed traffic from pods (hairpin included) and from 127/8 (NodePort on loopback);
 * - the guard dropping 127/8 arriving on anything but lo (CVE-2020-8558, because the bridge has
 *   route_localnet=1);
 * - without outbound NAT, nothing from the bridge is forwarded out of another interface but what
 *   goes to the cluster's pod range (other nodes' pods).
 */
export interface RulesetInput {
  table: string;
  podCidr: string;
  bridge: string;
  /** Addresses NodePorts answer on; `"local"` = every local address. Default 127.0.0.1. */
  nodePortAddresses: string[] | "local";
  services: ProxyServicePort[];
  hostPorts: { podIp: string; mappings: HostPortMapping[]; podName: string }[];
  outboundNat?: boolean;
  /**
   * The whole cluster's pod range (every node's): traffic from the bridge to it may leave through
   * another interface even without outbound NAT — it is routed to another node's pods, unNATed.
   */
  clusterCidr?: string;
  /** Affinity set name → live elements to carry over (address, seconds left). */
  affinity?: Map<string, { ip: string; expires: number }[]>;
}

export function renderRuleset(input: RulesetInput): string {
  const t = input.table;
  const svcIp: string[] = [];
  const svcNodePort: string[] = [];
  const noEndpoints: string[] = [];
  const sets: string[] = [];
  const chains: string[] = [];
  const claimed = new Set<string>();
  const claim = (key: string) => !claimed.has(key) && !!claimed.add(key);
  const used = new Set<string>();
  const unique = (name: string) => uniqueName(used, name);
  for (const sp of input.services) {
    const proto = sp.protocol.toLowerCase();
    const id = unique(hash(sp.key));
    const chain = `svc_${id}`;
    if (sp.endpoints.length === 0) {
      if (sp.clusterIP && claim(`${sp.clusterIP} . ${proto} . ${sp.port}`)) {
        noEndpoints.push(`${sp.clusterIP} . ${proto} . ${sp.port}`);
      }
      continue;
    }
    // A duplicate map key would fail the whole transaction: the first claimant keeps it.
    if (sp.clusterIP && claim(`${sp.clusterIP} . ${proto} . ${sp.port}`)) {
      svcIp.push(`${sp.clusterIP} . ${proto} . ${sp.port} : goto ${chain}`);
    }
    if (sp.nodePort && claim(`${proto} . ${sp.nodePort}`))
      svcNodePort.push(`${proto} . ${sp.nodePort} : goto ${chain}`);
    const comment = `comment ${quote(sp.key)}`;
    if (!sp.affinityTimeoutSeconds) {
      chains.push(`  chain ${chain} {\n    ${dnat(proto, sp.endpoints)} ${comment}\n  }`);
      continue;
    }
    const timeout = `${Math.max(1, Math.floor(sp.affinityTimeoutSeconds))}s`;
    const sticky: string[] = [];
    const pick: string[] = [];
    sp.endpoints.forEach((ep, i) => {
      const epId = unique(`${id}_${hash(`${ep.ip}:${ep.port}`)}`);
      const set = `aff_${epId}`;
      const kept = (input.affinity?.get(set) ?? []).filter((e) => e.expires > 0);
      const elements = kept.length
        ? `; elements = { ${kept.map((e) => `${e.ip} timeout ${timeout} expires ${Math.ceil(e.expires)}s`).join(", ")} }`
        : "";
      sets.push(`  set ${set} { type ipv4_addr; flags dynamic,timeout; timeout ${timeout}${elements}; }`);
      sticky.push(`    ip saddr @${set} goto ep_${epId}`);
      pick.push(`${i} : goto ep_${epId}`);
      chains.push(
        `  chain ep_${epId} {\n    update @${set} { ip saddr }\n    ${dnat(proto, [ep])} ${comment}\n  }`,
      );
    });
    chains.push(
      `  chain ${chain} {\n${sticky.join("\n")}\n    numgen random mod ${sp.endpoints.length} vmap { ${pick.join(", ")} }\n  }`,
    );
  }

  const hostPortRules: string[] = [];
  for (const hp of input.hostPorts) {
    for (const m of hp.mappings) {
      const match = isSpecificIPv4(m.hostIP) ? `ip daddr ${m.hostIP}` : "fib daddr type local";
      hostPortRules.push(
        `    ${match} meta l4proto ${m.protocol.toLowerCase()} th dport ${m.hostPort} dnat to ${hp.podIp}:${m.containerPort} comment ${quote(`hostPort ${hp.podName}`)}`,
      );
    }
  }

  const nodePortMatch =
    input.nodePortAddresses === "local"
      ? "fib daddr type local"
      : `ip daddr { ${input.nodePortAddresses.join(", ")} }`;
  const out: string[] = [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    `  map svc_ip { type ipv4_addr . inet_proto . inet_service : verdict;${elements(svcIp)} }`,
    `  map svc_nodeport { type inet_proto . inet_service : verdict;${elements(svcNodePort)} }`,
    `  set no_endpoints { type ipv4_addr . inet_proto . inet_service;${elements(noEndpoints)} }`,
    ...sets,
    "  chain guard {",
    "    type filter hook prerouting priority raw; policy accept;",
    '    iifname != "lo" ip daddr 127.0.0.0/8 drop',
    "  }",
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    "    jump services",
    "  }",
    // nft 1.0.6 rejects the `dstnat` keyword on output; -100 is its value.
    "  chain output {",
    "    type nat hook output priority -100; policy accept;",
    "    jump services",
    "  }",
    "  chain services {",
    "    ip daddr . meta l4proto . th dport vmap @svc_ip",
    `    ${nodePortMatch} meta l4proto . th dport vmap @svc_nodeport`,
    ...hostPortRules,
    "  }",
    ...chains,
    ...["input", "forward", "output"].map(
      (hook) =>
        `  chain reject_${hook} {\n    type filter hook ${hook} priority filter; policy accept;\n    ip daddr . meta l4proto . th dport @no_endpoints meta l4proto tcp reject with tcp reset\n    ip daddr . meta l4proto . th dport @no_endpoints reject\n  }`,
    ),
    // Without outbound NAT, pods reach only the bridge and the host: nothing they send is
    // forwarded out of another interface.
    ...(input.outboundNat
      ? []
      : [
          "  chain isolate {",
          "    type filter hook forward priority filter; policy accept;",
          // replies may leave: to another node's address a DNATed Service flow was masqueraded to
          ...(input.clusterCidr ? ["    ct state established,related accept"] : []),
          `    iifname "${input.bridge}" oifname != "${input.bridge}"${input.clusterCidr ? ` ip daddr != ${input.clusterCidr}` : ""} drop`,
          "  }",
        ]),
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    // The host's own bridge address needs no SNAT (replies come back to it anyway); masquerading
    // it only re-uses ports the pod still holds in TIME_WAIT and stalls SYNs under load.
    `    ct status dnat ip saddr { ${input.podCidr}, 127.0.0.0/8 } ip saddr != ${gatewayOf(input.podCidr)} masquerade`,
    ...(input.outboundNat ? [`    ip saddr ${input.podCidr} oifname != "${input.bridge}" masquerade`] : []),
    "  }",
    "}",
  ];
  return `${out.join("\n")}\n`;
}

/**
 * What the table cannot serve as asked: a ClusterIP/NodePort key claimed twice (the first keeps
 * it) and a NodePort that a pod's hostPort also uses (the Service wins, being matched first).
 */
export function portConflicts(
  services: ProxyServicePort[],
  hostPorts: RulesetInput["hostPorts"],
): ProxyWarning[] {
  const out: ProxyWarning[] = [];
  const owner = new Map<string, string>();
  const who = (key: string) => key.split(":")[0];
  for (const sp of services) {
    const proto = sp.protocol.toLowerCase();
    const keys = [
      ...(sp.clusterIP
        ? [[`${sp.clusterIP} . ${proto} . ${sp.port}`, `${sp.clusterIP}:${sp.port}/${sp.protocol}`]]
        : []),
      ...(sp.nodePort && sp.endpoints.length
        ? [[`${proto} . ${sp.nodePort}`, `nodePort ${sp.nodePort}/${sp.protocol}`]]
        : []),
    ];
    for (const [key, label] of keys) {
      const holder = owner.get(key!);
      if (holder && holder !== sp.key) {
        out.push({
          key: sp.key,
          message: `${label} is already served for ${who(holder)}; this port gets no traffic`,
        });
      } else owner.set(key!, sp.key);
    }
    if (!sp.nodePort) continue;
    for (const hp of hostPorts) {
      if (hp.mappings.some((m) => m.hostPort === sp.nodePort && m.protocol === sp.protocol)) {
        out.push({
          key: sp.key,
          message: `nodePort ${sp.nodePort}/${sp.protocol} is also the hostPort of pod ${hp.podName}; the Service takes that port's traffic`,
        });
      }
    }
  }
  return out;
}

/**
 * Stable across syncs while the service port and endpoint exist, so affinity survives re-renders
 * (barring a hash collision, which only costs stickiness).
 */
export function affinitySetName(key: string, ep: { ip: string; port: number }): string {
  return `aff_${hash(key)}_${hash(`${ep.ip}:${ep.port}`)}`;
}

function dnat(proto: string, endpoints: { ip: string; port: number }[]): string {
  if (endpoints.length === 1)
    return `meta l4proto ${proto} dnat to ${endpoints[0]!.ip}:${endpoints[0]!.port}`;
  const map = endpoints.map((ep, i) => `${i} : ${ep.ip} . ${ep.port}`).join(", ");
  return `meta l4proto ${proto} dnat ip to numgen random mod ${endpoints.length} map { ${map} }`;
}

/** A hostIP naming one IPv4 address; empty, 0.0.0.0, IPv6 (this table is IPv4) and garbage mean every address. */
export function isSpecificIPv4(ip: string | undefined): ip is string {
  return !!ip && ip !== "0.0.0.0" && parseIPv4(ip) !== undefined;
}

/**
 * Names come from 32-bit hashes: a collision must not make two chains or sets of one name (nft
 * would refuse the whole table), so a repeat gets a suffix.
 */
export function uniqueName(used: Set<string>, name: string): string {
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${name}_${n}`;
  used.add(candidate);
  return candidate;
}

export function elements(items: string[]): string {
  return items.length ? ` elements = { ${items.join(", ")} }` : "";
}

export function quote(text: string): string {
  return `"${text.replace(/["\\]/g, "")}"`;
}

/** FNV-1a, 32 bits, hex: short stable names for chains and sets. */
export function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The bridge's address: the first host of the pod CIDR. */
function gatewayOf(podCidr: string): string {
  return formatIPv4(firstHost(parseCidr(podCidr)));
}
