import type { Namespace } from "kubernetes-types/core/v1";
import { dns1123Label } from "../../validation/names.ts";
import { as, type Strategy } from "../strategy.ts";

export const namespaceStrategy: Strategy = {
  nameRule: dns1123Label,
  hasGeneration: false,
  prepareForCreate(obj) {
    as<Namespace>(obj).status = { phase: "Active" };
  },
  defaults(obj) {
    const ns = as<Namespace>(obj);
    ns.spec ??= {};
    ns.spec.finalizers ??= ["kubernetes"];
    // Since 1.21 every namespace carries its own name as a label, so selectors can pick it.
    ns.metadata ??= {};
    if (ns.metadata.name)
      ns.metadata.labels = { ...ns.metadata.labels, "kubernetes.io/metadata.name": ns.metadata.name };
  },
};
