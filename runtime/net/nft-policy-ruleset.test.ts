import { describe, expect, test } from "bun:test";
import type { PolicyView } from "../../core/seams/policy-enforcer.ts";
import { host } from "../../test/support/env.ts";
import { run } from "./exec.ts";
import { policyTableOf, renderPolicyRuleset } from "./nft-policy-ruleset.ts";

// default deny ingress in `default`, an allow rule from app=client with a port range and a named
// port, an egress deny with a DNS allow rule, and an ipBlock with except.
const policies: PolicyView[] = [
  { key: "default/deny", pods: ["10.250.0.2", "10.250.0.3", "10.250.0.4"], ingress: [] },
  {
    key: "default/allow",
    pods: ["10.250.0.2"],
    ingress: [
      {
        peers: ["10.250.0.3"],
        ports: [{ protocol: "TCP", from: 80, to: 90 }],
        namedPorts: [{ ip: "10.250.0.2", protocol: "TCP", port: 8080 }],
      },
    ],
  },
  {
    key: "default/egress",
    pods: ["10.250.0.2"],
    egress: [
      { ports: [{ protocol: "UDP", from: 53, to: 53 }], namedPorts: [] },
      { peers: ["10.0.0.0-10.0.255.255", "10.2.0.0-10.255.255.255"] },
    ],
  },
  { key: "default/nobody", pods: [], ingress: [] },
];

const input = { table: "minik_policy_render_test", bridge: "minikt0", policies };

describe("nft policy ruleset", () => {
  test("the table for a few policies (text snapshot)", () => {
    expect(renderPolicyRuleset(input)).toBe(`table ip minik_policy_render_test
delete table ip minik_policy_render_test
table ip minik_policy_render_test {
  set ingress_isolated { type ipv4_addr; elements = { 10.250.0.2, 10.250.0.3, 10.250.0.4 } }
  set egress_isolated { type ipv4_addr; elements = { 10.250.0.2 } }
  set pc67acbc9_pods { type ipv4_addr; elements = { 10.250.0.2, 10.250.0.3, 10.250.0.4 } }
  set pf7b23b24_pods { type ipv4_addr; elements = { 10.250.0.2 } }
  set pf7b23b24_i0_peers { type ipv4_addr; flags interval; elements = { 10.250.0.3 } }
  set pf7b23b24_i0_ports { type inet_proto . inet_service; flags interval; elements = { tcp . 80-90 } }
  set pf7b23b24_i0_named { type ipv4_addr . inet_proto . inet_service; elements = { 10.250.0.2 . tcp . 8080 } }
  set pd90123d4_pods { type ipv4_addr; elements = { 10.250.0.2 } }
  set pd90123d4_e0_ports { type inet_proto . inet_service; flags interval; elements = { udp . 53 } }
  set pd90123d4_e1_peers { type ipv4_addr; flags interval; elements = { 10.0.0.0-10.0.255.255, 10.2.0.0-10.255.255.255 } }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    ip saddr @egress_isolated jump egress
    ip daddr @ingress_isolated jump ingress
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname != "minikt0" accept
    ct state established,related accept
    ip saddr @egress_isolated jump egress
  }
  chain egress {
    ip saddr @pd90123d4_pods meta l4proto . th dport @pd90123d4_e0_ports return comment "default/egress"
    ip saddr @pd90123d4_pods ip daddr @pd90123d4_e1_peers return comment "default/egress"
    drop comment "egress not allowed by any NetworkPolicy"
  }
  chain ingress {
    ip daddr @pf7b23b24_pods ip saddr @pf7b23b24_i0_peers meta l4proto . th dport @pf7b23b24_i0_ports return comment "default/allow"
    ip daddr @pf7b23b24_pods ip saddr @pf7b23b24_i0_peers ip daddr . meta l4proto . th dport @pf7b23b24_i0_named return comment "default/allow"
    drop comment "ingress not allowed by any NetworkPolicy"
  }
}
`);
  });

  test("no policy: empty sets, nothing isolated", () => {
    const text = renderPolicyRuleset({ ...input, policies: [] });
    expect(text).toContain("set ingress_isolated { type ipv4_addr; }");
    expect(text).toContain("set egress_isolated { type ipv4_addr; }");
  });

  test("the policy table sits beside the proxy's", () => {
    expect(policyTableOf("minik")).toBe("minik_policy");
  });

  test.skipIf(!host.canUseNftables)("nft accepts the rendered text", async () => {
    for (const text of [renderPolicyRuleset(input), renderPolicyRuleset({ ...input, policies: [] })]) {
      const checked = await run(["nft", "-c", "-f", "-"], text);
      expect(checked.stderr).toBe("");
      expect(checked.code).toBe(0);
    }
  });
});
