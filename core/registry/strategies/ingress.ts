import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import {
  validateIngressClassSpec,
  validateIngressClassUpdate,
  validateIngressSpec,
} from "../../validation/ingress.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import { as, type Strategy } from "../strategy.ts";

/**
 * Ingress (networking.k8s.io/v1): born with an empty load-balancer status that the ingress
 * controller fills; the default class is filled by admission (core/network/ingress-class.ts).
 */
export const ingressStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    as<Ingress>(obj).status = { loadBalancer: {} };
  },
  validate: (obj) => validateIngressSpec(as<Ingress>(obj).spec),
};

/** IngressClass: a controller name that never changes; the default mark is an annotation. */
export const ingressClassStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  defaults(obj) {
    // networking/v1 SetDefaults_IngressClass: parameters without scope are cluster-scoped
    const parameters = as<IngressClass>(obj).spec?.parameters;
    if (parameters) parameters.scope ??= "Cluster";
  },
  validate: (obj) => validateIngressClassSpec(as<IngressClass>(obj).spec),
  validateUpdate: (obj, old) =>
    validateIngressClassUpdate(
      as<IngressClass>(obj).spec?.controller,
      as<IngressClass>(old).spec?.controller,
    ),
};
