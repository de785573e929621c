import type { PolicyRule, Subject } from "kubernetes-types/rbac/v1";
import type { RequestAttributes } from "./request-attributes.ts";
import type { UserInfo } from "./user.ts";

/**
 * RBAC's matching rules, as kube-apiserver's rbac/validation does them: which subjects a binding
 * names, and whether a PolicyRule allows a request (verbs, apiGroups, resources incl.
 * `resource/subresource` and `*` forms, resourceNames, nonResourceURLs with a trailing `*`).
 */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.username;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== "" && user.username === `system:serviceaccount:${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceUrlMatches(rule.nonResourceURLs, a.path);
  if (!rule.resources?.length) return false;
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  if (!resourceMatches(rule.resources, a.resource, a.subresource)) return false;
  if (!rule.resourceNames?.length) return true;
  return a.name !== "" && rule.resourceNames.includes(a.name);
}

export function rulesAllow(rules: readonly PolicyRule[], a: RequestAttributes): boolean {
  return rules.some((r) => ruleAllows(r, a));
}

function has(list: readonly string[] | undefined, value: string): boolean {
  return !!list && (list.includes("*") || list.includes(value));
}

function resourceMatches(resources: readonly string[], resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of resources) {
    if (r === "*" || r === combined) return true;
    if (subresource && (r === `*/${subresource}` || r === `${resource}/*`)) return true;
  }
  return false;
}

function nonResourceUrlMatches(urls: readonly string[] | undefined, path: string): boolean {
  for (const u of urls ?? []) {
    if (u === "*" || u === path) return true;
    if (u.endsWith("*") && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Whether `held` covers every permission of `wanted` (escalation check): each wanted rule is split
 * into single (verb, group, resource, name) or (verb, URL) atoms, each of which a held rule must allow.
 */
export function coveredBy(wanted: readonly PolicyRule[], held: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of wanted) {
    for (const verb of rule.verbs ?? []) {
      if (rule.nonResourceURLs?.length) {
        for (const url of rule.nonResourceURLs) {
          if (!held.some((h) => has(h.verbs, verb) && nonResourceUrlCovers(h.nonResourceURLs, url)))
            missing.push({ verbs: [verb], nonResourceURLs: [url] });
        }
        continue;
      }
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
          for (const name of names) {
            const atom: PolicyRule = {
              verbs: [verb],
              apiGroups: [group],
              resources: [resource],
              ...(name ? { resourceNames: [name] } : {}),
            };
            if (!held.some((h) => ruleCovers(h, verb, group, resource, name))) missing.push(atom);
          }
        }
      }
    }
  }
  return missing;
}

function ruleCovers(
  h: PolicyRule,
  verb: string,
  group: string,
  resource: string,
  name: string | undefined,
): boolean {
  if (!has(h.verbs, verb) || !has(h.apiGroups, group) || !h.resources?.length) return false;
  const [res, sub = ""] = resource.split("/");
  const resourceOk =
    h.resources.includes("*") ||
    h.resources.includes(resource) ||
    (resource !== "*" && sub !== "" && sub !== "*" && resourceMatches(h.resources, res!, sub));
  if (!resourceOk) return false;
  if (!h.resourceNames?.length) return true;
  return name !== undefined && h.resourceNames.includes(name);
}

function nonResourceUrlCovers(held: readonly string[] | undefined, url: string): boolean {
  for (const u of held ?? []) {
    if (u === "*" || u === url) return true;
    if (u.endsWith("*") && url.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}
