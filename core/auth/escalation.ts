import type { PolicyRule, RoleRef } from "kubernetes-types/rbac/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { type Authorizer, MASTERS_GROUP, RBAC_GROUP } from "./rbac-authorizer.ts";
import { coveredBy } from "./rbac-rules.ts";
import type { RequestAttributes } from "./request-attributes.ts";
import type { UserInfo } from "./user.ts";

/**
 * RBAC's escalation prevention: a user may write a Role or ClusterRole only with rules they hold
 * themselves (or with the `escalate` verb on it), and bind a role only if they hold all its rules
 * (or have `bind` on it). A PATCH is checked on what a dry run of it would store.
 */
const ROLE_RESOURCES = new Set(["roles", "clusterroles"]);
const BINDING_RESOURCES = new Set(["rolebindings", "clusterrolebindings"]);
const WRITE_VERBS = new Set(["create", "update", "patch"]);

export function needsEscalationCheck(user: UserInfo, a: RequestAttributes): boolean {
  return (
    a.resourceRequest &&
    a.apiGroup === RBAC_GROUP &&
    a.subresource === "" &&
    WRITE_VERBS.has(a.verb) &&
    (ROLE_RESOURCES.has(a.resource) || BINDING_RESOURCES.has(a.resource)) &&
    !user.groups.includes(MASTERS_GROUP)
  );
}

/** Throws Forbidden when the write would grant more than the user holds. `body` is the decoded object (not for PATCH). */
export async function checkEscalation(
  user: UserInfo,
  a: RequestAttributes & { resourceRequest: true },
  body: KubeObject | undefined,
  authorizer: Authorizer,
  client: Pick<Client, "tryGet">,
): Promise<void> {
  const name = body?.metadata?.name ?? a.name;
  const namespace = a.resource === "roles" || a.resource === "rolebindings" ? a.namespace : "";
  if (ROLE_RESOURCES.has(a.resource)) {
    if ((await authorizer.authorize(user, { ...a, verb: "escalate", name })).allowed) return;
    if (!body || body.aggregationRule)
      throw forbiddenEscalation(a, name, "may not change the rules of a role without the escalate verb");
    await requireHeld(user, namespace, (body.rules as PolicyRule[] | undefined) ?? [], a, name, authorizer);
    return;
  }
  let ref = body?.roleRef as RoleRef | undefined;
  if (!ref && a.verb === "patch") {
    const existing = await client.tryGet(`${a.resource}.${RBAC_GROUP}`, namespace, a.name);
    ref = existing?.roleRef as RoleRef | undefined;
  }
  if (!ref) return; // validation will refuse it
  const roleResource = ref.kind === "ClusterRole" ? "clusterroles" : "roles";
  const bind: RequestAttributes = {
    resourceRequest: true,
    verb: "bind",
    apiGroup: RBAC_GROUP,
    apiVersion: "v1",
    resource: roleResource,
    subresource: "",
    namespace,
    name: ref.name,
  };
  if ((await authorizer.authorize(user, bind)).allowed) return;
  const role = await client.tryGet(
    `${roleResource}.${RBAC_GROUP}`,
    roleResource === "roles" ? namespace : "",
    ref.name,
  );
  await requireHeld(user, namespace, (role?.rules as PolicyRule[] | undefined) ?? [], a, name, authorizer);
}

async function requireHeld(
  user: UserInfo,
  namespace: string,
  wanted: PolicyRule[],
  a: RequestAttributes & { resourceRequest: true },
  name: string,
  authorizer: Authorizer,
): Promise<void> {
  const missing = coveredBy(wanted, await authorizer.rulesFor(user, namespace));
  if (missing.length === 0) return;
  const list = missing.map(ruleString).join("\n");
  throw forbiddenEscalation(
    a,
    name,
    `user "${user.username}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${list}`,
  );
}

function forbiddenEscalation(
  a: RequestAttributes & { resourceRequest: true },
  name: string,
  why: string,
): ApiError {
  return new ApiError("Forbidden", `${a.resource}.${RBAC_GROUP} "${name}" is forbidden: ${why}`, {
    name,
    group: RBAC_GROUP,
    kind: a.resource,
  });
}

/** `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`, as kube-apiserver lists missing rules. */
function ruleString(r: PolicyRule): string {
  const parts: string[] = [];
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
  if (r.apiGroups?.length) parts.push(`APIGroups:${list(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${list(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
  parts.push(`Verbs:${list(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}
