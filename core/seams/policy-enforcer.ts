/**
 * What the node's NetworkPolicy data path is given: every policy already resolved to addresses.
 * core/network/policy-view.ts computes it from NetworkPolicies, Pods and Namespaces;
 * runtime/net/nft-policy.ts renders it as one nftables table replaced atomically.
 *
 * Semantics (Kubernetes'): policies are additive allow-lists. A pod is isolated for a direction
 * only when some policy selects it with that direction (`ingress`/`egress` present, possibly
 * empty = deny all); then a connection passes when any rule of any such policy allows it.
 * Replies of allowed connections always pass; the node itself reaches pods (probes).
 */
export type PolicyProtocol = "TCP" | "UDP" | "SCTP";

/** One allow rule of one direction; a field left out matches everything. */
export interface PolicyRuleView {
  /**
   * The other end: IPv4 addresses (`10.88.0.5`) and ranges (`10.0.0.0-10.0.255.255`), sorted
   * and merged so no two overlap. Absent: any peer.
   */
  peers?: string[];
  /**
   * The destination port (numeric ports and ranges). `ports` and `namedPorts` are both absent
   * (any port) or both present; a rule whose ports resolve to nothing is left out entirely.
   */
  ports?: { protocol: PolicyProtocol; from: number; to: number }[];
  /** Named ports, resolved per destination pod: its address, protocol and container port. */
  namedPorts?: { ip: string; protocol: PolicyProtocol; port: number }[];
}

export interface PolicyView {
  /** `namespace/name` of the NetworkPolicy. */
  key: string;
  /** Addresses of the pods the policy selects. */
  pods: string[];
  /** Present when the policy isolates its pods for ingress: the allowed sources. */
  ingress?: PolicyRuleView[];
  /** Present when the policy isolates its pods for egress: the allowed destinations. */
  egress?: PolicyRuleView[];
}

export interface PolicyEnforcer {
  /** Replaces every policy on the node with `policies`, atomically (never a moment without rules). */
  sync(policies: PolicyView[]): Promise<void>;
}
