import type { AggregationRule, PolicyRule, RoleRef, Subject } from "kubernetes-types/rbac/v1";
import type { KubeObject } from "../../object.ts";
import { type Causes, forbidden, invalid, notSupported, required } from "../../validation/causes.ts";
import type { NameRule } from "../../validation/names.ts";
import type { Strategy } from "../strategy.ts";

/**
 * Role, ClusterRole, RoleBinding, ClusterRoleBinding (rbac.authorization.k8s.io/v1). Names are path
 * segments (`system:discovery` is fine); every rule needs verbs and either resources or
 * nonResourceURLs (the latter only in ClusterRoles); a binding's roleRef never changes.
 */
const RBAC_GROUP = "rbac.authorization.k8s.io";

export const pathSegmentName: NameRule = (name) => {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  for (const bad of ["/", "%"]) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
};

function validateRules(rules: PolicyRule[] | undefined, clusterScoped: boolean): Causes {
  const causes: Causes = [];
  (rules ?? []).forEach((rule, i) => {
    const at = `rules[${i}]`;
    if (!rule.verbs?.length) causes.push(required(`${at}.verbs`, "verbs must contain at least one value"));
    if (rule.nonResourceURLs?.length) {
      if (!clusterScoped)
        causes.push(
          invalid(
            `${at}.nonResourceURLs`,
            rule.nonResourceURLs,
            "namespaced rules cannot apply to non-resource URLs",
          ),
        );
      if (rule.apiGroups?.length || rule.resources?.length)
        causes.push(
          invalid(
            `${at}.nonResourceURLs`,
            rule.nonResourceURLs,
            "rules cannot apply to both regular resources and non-resource URLs",
          ),
        );
      return;
    }
    if (!rule.apiGroups?.length)
      causes.push(required(`${at}.apiGroups`, "resource rules must supply at least one api group"));
    if (!rule.resources?.length)
      causes.push(required(`${at}.resources`, "resource rules must supply at least one resource"));
  });
  return causes;
}

function roleStrategy(clusterScoped: boolean): Strategy {
  return {
    nameRule: pathSegmentName,
    hasGeneration: false,
    validate(obj) {
      const causes = validateRules(obj.rules as PolicyRule[] | undefined, clusterScoped);
      const aggregation = obj.aggregationRule as AggregationRule | undefined;
      if (aggregation && !aggregation.clusterRoleSelectors?.length)
        causes.push(
          required(
            "aggregationRule.clusterRoleSelectors",
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
          ),
        );
      return causes;
    },
  };
}

function validateBinding(obj: KubeObject, clusterScoped: boolean): Causes {
  const causes: Causes = [];
  const ref = obj.roleRef as RoleRef | undefined;
  if (!ref) return [required("roleRef")];
  if (ref.apiGroup !== RBAC_GROUP)
    causes.push(notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [RBAC_GROUP]));
  const kinds = clusterScoped ? ["ClusterRole"] : ["Role", "ClusterRole"];
  if (!kinds.includes(ref.kind)) causes.push(notSupported("roleRef.kind", ref.kind ?? "", kinds));
  if (!ref.name) causes.push(required("roleRef.name"));
  ((obj.subjects as Subject[] | undefined) ?? []).forEach((s, i) => {
    const at = `subjects[${i}]`;
    if (!s.name) causes.push(required(`${at}.name`));
    if (!["User", "Group", "ServiceAccount"].includes(s.kind))
      causes.push(notSupported(`${at}.kind`, s.kind ?? "", ["ServiceAccount", "User", "Group"]));
    else if (s.kind === "ServiceAccount") {
      if (s.apiGroup) causes.push(notSupported(`${at}.apiGroup`, s.apiGroup, [""]));
      if (clusterScoped && !s.namespace) causes.push(required(`${at}.namespace`));
    } else if (s.apiGroup !== RBAC_GROUP)
      causes.push(notSupported(`${at}.apiGroup`, s.apiGroup ?? "", [RBAC_GROUP]));
  });
  return causes;
}

function bindingStrategy(clusterScoped: boolean): Strategy {
  return {
    nameRule: pathSegmentName,
    hasGeneration: false,
    defaults(obj) {
      // kubectl and most manifests leave apiGroup off User/Group subjects
      for (const s of (obj.subjects as Subject[] | undefined) ?? [])
        if ((s.kind === "User" || s.kind === "Group") && !s.apiGroup)
          (s as { apiGroup?: string }).apiGroup = RBAC_GROUP;
    },
    validate: (obj) => validateBinding(obj, clusterScoped),
    validateUpdate(obj, old) {
      return JSON.stringify(obj.roleRef) === JSON.stringify(old.roleRef)
        ? []
        : [forbidden("roleRef", "cannot change roleRef")];
    },
  };
}

export const roleStrategyNamespaced = roleStrategy(false);
export const clusterRoleStrategy = roleStrategy(true);
export const roleBindingStrategy = bindingStrategy(false);
export const clusterRoleBindingStrategy = bindingStrategy(true);
