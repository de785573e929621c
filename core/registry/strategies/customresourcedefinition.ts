import { crdWarnings, validateCrd, validateCrdUpdate } from "../../crd/crd-validation.ts";
import { CRD_CLEANUP_FINALIZER, type CustomResourceDefinition } from "../../crd/types.ts";
import { dns1123Subdomain } from "../../validation/names.ts";
import type { Strategy } from "../strategy.ts";

const crd = (obj: unknown) => obj as CustomResourceDefinition;

/**
 * apiextensions.k8s.io/v1 CustomResourceDefinitions: status is the controller's; a new CRD gets
 * the cleanup finalizer (its objects go before it does); names and conversion defaulted as
 * kube-apiserver does; validated by core/crd/crd-validation.ts.
 */
export const customResourceDefinitionStrategy: Strategy = {
  nameRule: dns1123Subdomain,
  hasGeneration: true,
  prepareForCreate(obj) {
    delete obj.status;
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER))
      obj.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
  },
  defaults(obj) {
    const spec = crd(obj).spec;
    if (!spec) return;
    if (spec.names?.kind) {
      spec.names.singular ||= spec.names.kind.toLowerCase();
      spec.names.listKind ||= `${spec.names.kind}List`;
    }
    spec.conversion ??= { strategy: "None" };
    spec.conversion.strategy ??= "None";
  },
  validate: (obj) => validateCrd(crd(obj)),
  warnings: (obj) => crdWarnings(crd(obj)),
  validateUpdate: (obj, old) => validateCrdUpdate(crd(obj), crd(old)),
};
