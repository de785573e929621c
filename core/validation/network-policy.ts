import type {
  IPBlock,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicySpec,
} from "kubernetes-types/networking/v1";
import { parseIPv4 } from "../network/cidr.ts";
import { type Causes, forbidden, invalid, notSupported, required } from "./causes.ts";
import { validateLabelSelector } from "./label-selector.ts";
import { portName } from "./names.ts";
import { validPort } from "./pod-spec.ts";

/**
 * NetworkPolicy spec validation as kube-apiserver words it (pkg/apis/networking/validation):
 * ports (protocol, port, endPort), peers (one of pod/namespace selector, or an ipBlock alone),
 * ipBlock CIDRs with `except` strictly inside, and at most the two policyTypes.
 */
const PROTOCOLS = ["TCP", "UDP", "SCTP"];
const POLICY_TYPES = ["Ingress", "Egress"];
const BAD_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
const BAD_PORT = "must be between 1 and 65535, inclusive";

export function validateNetworkPolicySpec(spec: NetworkPolicySpec | undefined, field = "spec"): Causes {
  if (!spec) return [];
  const causes: Causes = validateLabelSelector(spec.podSelector, `${field}.podSelector`);
  const rules = [
    ["ingress", "from", spec.ingress ?? []],
    ["egress", "to", spec.egress ?? []],
  ] as const;
  for (const [direction, peersField, list] of rules) {
    list.forEach((rule, i) => {
      const at = `${field}.${direction}[${i}]`;
      const peers = (rule as { from?: NetworkPolicyPeer[]; to?: NetworkPolicyPeer[] })[peersField] ?? [];
      causes.push(
        ...(rule.ports ?? []).flatMap((p, j) => validatePort(p, `${at}.ports[${j}]`)),
        ...peers.flatMap((p, j) => validatePeer(p, `${at}.${peersField}[${j}]`)),
      );
    });
  }
  const types = spec.policyTypes ?? [];
  if (types.length > POLICY_TYPES.length) {
    causes.push(invalid(`${field}.policyTypes`, types, "may not specify more than two policyTypes"));
    return causes;
  }
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t)) causes.push(notSupported(`${field}.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return causes;
}

function validatePort(port: NetworkPolicyPort, at: string): Causes {
  const causes: Causes = [];
  if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) {
    causes.push(notSupported(`${at}.protocol`, port.protocol, PROTOCOLS));
  }
  const { port: p, endPort } = port;
  if (p === undefined) {
    if (endPort !== undefined)
      causes.push(invalid(`${at}.endPort`, endPort, "may not be specified when `port` is not specified"));
  } else if (typeof p === "number") {
    if (!validPort(p)) causes.push(invalid(`${at}.port`, p, BAD_PORT));
    if (endPort !== undefined) {
      if (endPort < p) causes.push(invalid(`${at}.endPort`, p, "must be greater than or equal to `port`"));
      if (!validPort(endPort)) causes.push(invalid(`${at}.endPort`, endPort, BAD_PORT));
    }
  } else {
    if (endPort !== undefined)
      causes.push(invalid(`${at}.endPort`, endPort, "may not be specified when `port` is non-numeric"));
    for (const e of portName(String(p))) causes.push(invalid(`${at}.port`, p, e));
  }
  return causes;
}

function validatePeer(peer: NetworkPolicyPeer, at: string): Causes {
  const causes: Causes = [
    ...validateLabelSelector(peer.podSelector, `${at}.podSelector`),
    ...validateLabelSelector(peer.namespaceSelector, `${at}.namespaceSelector`),
  ];
  const count = [peer.podSelector, peer.namespaceSelector, peer.ipBlock].filter((x) => x != null).length;
  if (peer.ipBlock) causes.push(...validateIpBlock(peer.ipBlock, `${at}.ipBlock`));
  if (count === 0) causes.push(required(at, "must specify a peer"));
  else if (count > 1 && peer.ipBlock)
    causes.push(forbidden(at, "may not specify both ipBlock and another peer"));
  return causes;
}

function validateIpBlock(block: IPBlock, at: string): Causes {
  if (!block.cidr) return [required(`${at}.cidr`)];
  const cidr = parseAnyCidr(block.cidr);
  if (!cidr) return [invalid(`${at}.cidr`, block.cidr, BAD_CIDR)];
  const causes: Causes = [];
  (block.except ?? []).forEach((text, i) => {
    const except = parseAnyCidr(text);
    if (!except) causes.push(invalid(`${at}.except[${i}]`, text, BAD_CIDR));
    else if (except.v6 !== cidr.v6 || !contains(cidr, except.start) || cidr.bits >= except.bits) {
      causes.push(invalid(`${at}.except[${i}]`, text, "must be a strict subset of `cidr`"));
    }
  });
  return causes;
}

/** An IPv4 or IPv6 CIDR as a start address (bigint) and prefix length; undefined when malformed. */
export interface AnyCidr {
  v6: boolean;
  start: bigint;
  bits: number;
}

export function parseAnyCidr(text: string): AnyCidr | undefined {
  const [addr, bits, extra] = text.split("/");
  if (addr === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits ?? "")) return undefined;
  const v6 = addr.includes(":");
  const value = v6 ? parseIPv6(addr) : ipv4Big(addr);
  const n = Number(bits);
  const width = v6 ? 128 : 32;
  if (value === undefined || n > width) return undefined;
  const size = 1n << BigInt(width - n);
  return { v6, start: value - (value % size), bits: n };
}

function contains(cidr: AnyCidr, ip: bigint): boolean {
  const size = 1n << BigInt((cidr.v6 ? 128 : 32) - cidr.bits);
  return ip >= cidr.start && ip < cidr.start + size;
}

function ipv4Big(text: string): bigint | undefined {
  const n = parseIPv4(text);
  return n === undefined ? undefined : BigInt(n);
}

function parseIPv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(`0x${g}`);
  }
  return value;
}
