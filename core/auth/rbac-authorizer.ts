import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
} from "kubernetes-types/rbac/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { ruleAllows, subjectMatches } from "./rbac-rules.ts";
import type { RequestAttributes } from "./request-attributes.ts";
import type { UserInfo } from "./user.ts";

/**
 * The authorizer every request passes: members of system:masters (the token from `minik up`) may do
 * anything; everyone else gets exactly what RBAC grants them through ClusterRoleBindings and the
 * RoleBindings of the request's namespace. Access reviews and escalation checks ask the same code.
 */
export const RBAC_GROUP = "rbac.authorization.k8s.io";
export const MASTERS_GROUP = "system:masters";

export interface Decision {
  allowed: boolean;
  /** Which binding allowed it (empty when denied: RBAC has no opinion, the request is forbidden). */
  reason: string;
}

export interface Authorizer {
  authorize(user: UserInfo, attributes: RequestAttributes): Promise<Decision>;
  /** Every rule that applies to the user in a namespace ("" = cluster-wide rules only). */
  rulesFor(user: UserInfo, namespace: string): Promise<PolicyRule[]>;
}

type RbacClient = Pick<Client, "list" | "tryGet">;
type Binding = (RoleBinding | ClusterRoleBinding) & KubeObject;

export function createRbacAuthorizer(client: RbacClient): Authorizer {
  async function roleRules(ref: RoleRef, namespace: string): Promise<PolicyRule[]> {
    if (ref.apiGroup !== RBAC_GROUP) return [];
    if (ref.kind === "ClusterRole") {
      const role = await client.tryGet<ClusterRole & KubeObject>(`clusterroles.${RBAC_GROUP}`, "", ref.name);
      return role?.rules ?? [];
    }
    if (ref.kind === "Role" && namespace) {
      const role = await client.tryGet<Role & KubeObject>(`roles.${RBAC_GROUP}`, namespace, ref.name);
      return role?.rules ?? [];
    }
    return [];
  }

  /** Bindings that name the user: cluster-wide first, then the namespace's. */
  async function* bindingsFor(user: UserInfo, namespace: string): AsyncGenerator<[Binding, string]> {
    const cluster = await client.list<Binding>(`clusterrolebindings.${RBAC_GROUP}`);
    for (const b of cluster.items) if (binds(b, user, "")) yield [b, ""];
    if (!namespace) return;
    const local = await client.list<Binding>(`rolebindings.${RBAC_GROUP}`, { namespace });
    for (const b of local.items) if (binds(b, user, namespace)) yield [b, namespace];
  }

  return {
    async authorize(user, attributes) {
      if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: `member of ${MASTERS_GROUP}` };
      const namespace = attributes.resourceRequest ? attributes.namespace : "";
      for await (const [binding, ns] of bindingsFor(user, namespace)) {
        const rules = await roleRules(binding.roleRef, ns);
        if (rules.some((r) => ruleAllows(r, attributes))) {
          const kind = ns ? "RoleBinding" : "ClusterRoleBinding";
          const name = ns ? `${binding.metadata.name}/${ns}` : binding.metadata.name;
          return {
            allowed: true,
            reason: `RBAC: allowed by ${kind} "${name}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${user.username}`,
          };
        }
      }
      return { allowed: false, reason: "" };
    },
    async rulesFor(user, namespace) {
      if (user.groups.includes(MASTERS_GROUP))
        return [
          { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
          { verbs: ["*"], nonResourceURLs: ["*"] },
        ];
      const rules: PolicyRule[] = [];
      for await (const [binding, ns] of bindingsFor(user, namespace))
        rules.push(...(await roleRules(binding.roleRef, ns)));
      return rules;
    },
  };
}

function binds(binding: Binding, user: UserInfo, namespace: string): boolean {
  return (binding.subjects ?? []).some((s) => subjectMatches(s, user, namespace));
}

/** The Forbidden Status kube-apiserver answers with, word for word. */
export function forbidden(user: UserInfo, a: RequestAttributes, reason = ""): ApiError {
  const suffix = reason ? `: ${reason}` : "";
  if (!a.resourceRequest)
    return new ApiError(
      "Forbidden",
      `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"${suffix}`,
    );
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const why = `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const what = a.name ? `${qualified} "${a.name}"` : qualified;
  return new ApiError("Forbidden", `${what} is forbidden: ${why}${suffix}`, {
    ...(a.name ? { name: a.name } : {}),
    group: a.apiGroup,
    kind: a.resource,
  });
}
