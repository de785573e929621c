import { parseIPv4 } from "../../network/cidr.ts";
import type { PolicyEnforcer, PolicyProtocol, PolicyRuleView, PolicyView } from "../policy-enforcer.ts";

/** A new connection to ask an enforcer about. */
export interface Connection {
  from: string;
  to: string;
  protocol: PolicyProtocol;
  port: number;
}

/**
 * A PolicyEnforcer that keeps the last view and answers, for a new connection, what the real data
 * path does with it: the reference for the semantics the nftables table implements.
 */
export interface FakePolicyEnforcer extends PolicyEnforcer {
  readonly policies: PolicyView[];
  readonly syncs: number;
  allows(c: Connection): boolean;
}

export function createFakePolicyEnforcer(): FakePolicyEnforcer {
  let policies: PolicyView[] = [];
  let syncs = 0;
  return {
    get policies() {
      return policies;
    },
    get syncs() {
      return syncs;
    },
    async sync(next) {
      policies = structuredClone(next);
      syncs++;
    },
    allows: (c) => policyAllows(policies, c),
  };
}

/** Egress of the source, then ingress of the destination, each only where a policy isolates it. */
export function policyAllows(policies: PolicyView[], c: Connection): boolean {
  return (
    directionAllows(policies, "egress", c.from, c.to, c) &&
    directionAllows(policies, "ingress", c.to, c.from, c)
  );
}

function directionAllows(
  policies: PolicyView[],
  direction: "ingress" | "egress",
  self: string,
  peer: string,
  c: Connection,
): boolean {
  const selecting = policies.filter((p) => p[direction] && p.pods.includes(self));
  if (!selecting.length) return true;
  return selecting.some((p) => p[direction]!.some((rule) => ruleAllows(rule, peer, c)));
}

function ruleAllows(rule: PolicyRuleView, peer: string, c: Connection): boolean {
  if (rule.peers && !rule.peers.some((range) => inRange(range, peer))) return false;
  if (!rule.ports && !rule.namedPorts) return true;
  const numeric = (rule.ports ?? []).some(
    (p) => p.protocol === c.protocol && c.port >= p.from && c.port <= p.to,
  );
  const named = (rule.namedPorts ?? []).some(
    (p) => p.ip === c.to && p.protocol === c.protocol && p.port === c.port,
  );
  return numeric || named;
}

function inRange(range: string, ip: string): boolean {
  const [a, b = a] = range.split("-");
  const n = parseIPv4(ip) ?? -1;
  return n >= (parseIPv4(a!) ?? 0) && n <= (parseIPv4(b!) ?? -1);
}
