import { ApiError } from "../errors.ts";
import { type Authorizer, forbidden } from "./rbac-authorizer.ts";
import type { RequestAttributes } from "./request-attributes.ts";
import { parseServiceAccountUser, serviceAccountUser, type UserInfo } from "./user.ts";

/**
 * `kubectl --as=USER --as-group=GROUP`: the Impersonate-* headers turn the request into one made by
 * that user, if the caller may `impersonate` users, groups and service accounts (the admin may).
 * Returns the caller unchanged when the request impersonates no one.
 */
export async function impersonate(req: Request, caller: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const username = req.headers.get("Impersonate-User");
  const groups = headerValues(req, "Impersonate-Group");
  const uid = req.headers.get("Impersonate-Uid");
  if (!username) {
    if (groups.length || uid)
      throw new ApiError("InternalError", "Internal error occurred: requested impersonation without a user");
    return caller;
  }
  const sa = parseServiceAccountUser(username);
  const checks: RequestAttributes[] = [
    sa ? attrs("serviceaccounts", "", sa.name, sa.namespace) : attrs("users", "", username, ""),
    ...groups.map((g) => attrs("groups", "", g, "")),
    ...(uid ? [attrs("uids", "authentication.k8s.io", uid, "")] : []),
  ];
  for (const a of checks) {
    if (!(await authorizer.authorize(caller, a)).allowed) throw forbidden(caller, a);
  }
  const base = sa ? serviceAccountUser(sa.namespace, sa.name) : { username, groups: [] as string[] };
  const all = [...new Set([...(groups.length ? groups : base.groups), "system:authenticated"])];
  return { username, groups: all, ...(uid ? { uid } : {}) };
}

function attrs(resource: string, apiGroup: string, name: string, namespace: string): RequestAttributes {
  return {
    resourceRequest: true,
    verb: "impersonate",
    apiGroup,
    apiVersion: "",
    resource,
    subresource: "",
    namespace,
    name,
  };
}

function headerValues(req: Request, name: string): string[] {
  const v = req.headers.get(name);
  return v
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
