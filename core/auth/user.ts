/**
 * Who made a request, as Kubernetes' authenticators describe it (authentication.k8s.io UserInfo).
 * The authorizer decides on this alone.
 */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The holder of the token `minik up` writes: cluster-admin through system:masters. */
export const ADMIN_USER: UserInfo = {
  username: "minik-admin",
  groups: ["system:masters", "system:authenticated"],
};

/** Who a request is when nothing authenticated it (only the public probes and /version get here). */
export const ANONYMOUS_USER: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

/** `system:serviceaccount:NS:NAME` and its groups, as the service-account authenticator names them. */
export function serviceAccountUser(
  namespace: string,
  name: string,
  uid?: string,
  extra?: Record<string, string[]>,
): UserInfo {
  return {
    username: `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`,
    ...(uid ? { uid } : {}),
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
    ...(extra && Object.keys(extra).length ? { extra } : {}),
  };
}

/** The namespace and name of a service-account username, or undefined for other users. */
export function parseServiceAccountUser(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, name, ...rest] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  if (!namespace || !name || rest.length) return undefined;
  return { namespace, name };
}
