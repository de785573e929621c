import type { PolicyRuleView, PolicyView } from "../../core/seams/policy-enforcer.ts";
import { elements, hash, quote, uniqueName } from "./nft-ruleset.ts";

/**
 * Renders NetworkPolicies as one nftables table of their own (a sibling of the service proxy's
 * table, `<proxy table>_policy`), loaded with `nft -f` as one transaction that deletes and rebuilds
 * it: there is never a moment without rules. Pure, so tests read the text. Layout:
 * - `ingress_isolated` / `egress_isolated`: the addresses some policy isolates in that direction;
 * - per policy, a set of its pods' addresses; per rule, a set of peer ranges and port sets
 *   (numeric `proto . port` intervals; named ports as `pod address . proto . port`): sets of
 *   addresses, never a rule per pod pair;
 * - `forward` (pod → pod, pod → outside; bridged traffic reaches it through br_netfilter) and
 *   `input` (pod → the node: cluster DNS, the API) first accept replies of allowed connections
 *   (ct state established,related), then send new traffic of isolated pods through `egress` and
 *   `ingress`, where any matching rule returns (allowed) and the end drops;
 * - traffic the node itself starts (kubelet probes, `minik` port-forward) leaves through the
 *   `output` hook, which this table does not filter: host → pod is always allowed, as upstream
 *   CNI plugins do.
 */
export interface PolicyRulesetInput {
  table: string;
  bridge: string;
  policies: PolicyView[];
}

/** The policy table beside a service proxy table: reset and tests derive it the same way. */
export function policyTableOf(proxyTable: string): string {
  return `${proxyTable}_policy`;
}

export function renderPolicyRuleset(input: PolicyRulesetInput): string {
  const t = input.table;
  const sets: string[] = [];
  const ingress: string[] = [];
  const egress: string[] = [];
  const isolated = { ingress: new Set<string>(), egress: new Set<string>() };
  const used = new Set<string>();
  for (const policy of input.policies) {
    if (!policy.pods.length) continue;
    const id = uniqueName(used, `p${hash(policy.key)}`);
    sets.push(`  set ${id}_pods { type ipv4_addr;${elements(policy.pods)} }`);
    for (const direction of ["ingress", "egress"] as const) {
      const rules = policy[direction];
      if (!rules) continue;
      for (const ip of policy.pods) isolated[direction].add(ip);
      const out = direction === "ingress" ? ingress : egress;
      rules.forEach((rule, i) => {
        out.push(...renderRule(sets, `${id}_${direction[0]}${i}`, `${id}_pods`, direction, rule, policy.key));
      });
    }
  }
  const comment = (text: string) => `comment ${quote(text)}`;
  const out = [
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    `  set ingress_isolated { type ipv4_addr;${elements([...isolated.ingress])} }`,
    `  set egress_isolated { type ipv4_addr;${elements([...isolated.egress])} }`,
    ...sets,
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    "    ct state established,related accept",
    "    ip saddr @egress_isolated jump egress",
    "    ip daddr @ingress_isolated jump ingress",
    "  }",
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    iifname != "${input.bridge}" accept`,
    "    ct state established,related accept",
    "    ip saddr @egress_isolated jump egress",
    "  }",
    "  chain egress {",
    ...egress,
    `    drop ${comment("egress not allowed by any NetworkPolicy")}`,
    "  }",
    "  chain ingress {",
    ...ingress,
    `    drop ${comment("ingress not allowed by any NetworkPolicy")}`,
    "  }",
    "}",
  ];
  return `${out.join("\n")}\n`;
}

/** One rule: up to two nft rules (numeric ports, named ports), each `return` when it matches. */
function renderRule(
  sets: string[],
  id: string,
  pods: string,
  direction: "ingress" | "egress",
  rule: PolicyRuleView,
  key: string,
): string[] {
  const [self, peer] = direction === "ingress" ? ["daddr", "saddr"] : ["saddr", "daddr"];
  let match = `ip ${self} @${pods}`;
  if (rule.peers) {
    sets.push(`  set ${id}_peers { type ipv4_addr; flags interval;${elements(rule.peers)} }`);
    match += ` ip ${peer} @${id}_peers`;
  }
  const tail = `return comment ${quote(key)}`;
  if (!rule.ports && !rule.namedPorts) return [`    ${match} ${tail}`];
  const lines: string[] = [];
  if (rule.ports?.length) {
    const items = rule.ports.map(
      (p) => `${p.protocol.toLowerCase()} . ${p.from === p.to ? p.from : `${p.from}-${p.to}`}`,
    );
    sets.push(`  set ${id}_ports { type inet_proto . inet_service; flags interval;${elements(items)} }`);
    lines.push(`    ${match} meta l4proto . th dport @${id}_ports ${tail}`);
  }
  if (rule.namedPorts?.length) {
    const items = rule.namedPorts.map((p) => `${p.ip} . ${p.protocol.toLowerCase()} . ${p.port}`);
    sets.push(`  set ${id}_named { type ipv4_addr . inet_proto . inet_service;${elements(items)} }`);
    lines.push(`    ${match} ip daddr . meta l4proto . th dport @${id}_named ${tail}`);
  }
  return lines;
}
