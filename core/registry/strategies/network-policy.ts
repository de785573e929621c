import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { dns1123Subdomain } from "../../validation/names.ts";
import { validateNetworkPolicySpec } from "../../validation/network-policy.ts";
import { as, type Strategy } from "../strategy.ts";

/**
 * NetworkPolicy (networking.k8s.io/v1), defaulted as kube-apiserver does: every port's protocol
 * is TCP unless given, and without policyTypes a policy is an Ingress policy, plus Egress when it
 * has egress rules. The node enforces it (core/network/policy-view.ts → runtime/net).
 */
export const networkPolicyStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    // NetworkPolicyStatus was removed from the API (1.28): nothing to keep.
    delete obj.status;
  },
  defaults(obj) {
    const np = as<NetworkPolicy>(obj);
    // podSelector is optional on the wire (an empty one selects every pod of the namespace).
    np.spec ??= { podSelector: {} };
    const spec = np.spec;
    spec.podSelector ??= {};
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
      for (const port of rule.ports ?? []) port.protocol ??= "TCP";
    }
    if (!spec.policyTypes?.length) {
      spec.policyTypes = spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"];
    }
  },
  validate(obj) {
    return validateNetworkPolicySpec(as<NetworkPolicy>(obj).spec);
  },
};
