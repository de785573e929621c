import type { PolicyRule } from "kubernetes-types/rbac/v1";
import type { Authorizer } from "../auth/rbac-authorizer.ts";
import type { RequestAttributes } from "../auth/request-attributes.ts";
import type { UserInfo } from "../auth/user.ts";
import { ApiError } from "../errors.ts";
import type { ResourceInfo } from "../resources.ts";
import { readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import type { ExtraResource } from "./discovery.ts";
import { json } from "./respond.ts";
import { methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

/**
 * The review APIs: `kubectl auth can-i` (SelfSubjectAccessReview, SelfSubjectRulesReview for
 * `--list`), `kubectl auth whoami` (SelfSubjectReview), SubjectAccessReview for anyone allowed to
 * ask about others, and TokenReview. Access reviews answer from the same authorizer that guards
 * every request; the caller is the user the request authenticated (or impersonates).
 */
export const REVIEW_RESOURCES: ExtraResource[] = [
  {
    info: review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
    verbs: ["create"],
  },
  {
    info: review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    verbs: ["create"],
  },
  { info: review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"), verbs: ["create"] },
  { info: review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"), verbs: ["create"] },
  { info: review("authentication.k8s.io", "TokenReview", "tokenreviews"), verbs: ["create"] },
];

function review(group: string, kind: string, plural: string): ResourceInfo {
  return {
    group,
    version: "v1",
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced: false,
    shortNames: [],
    categories: [],
    subresources: [],
  };
}

interface AccessSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  namespace?: string;
  token?: string;
  audiences?: string[];
}

export async function handleReview(
  req: Request,
  t: Target,
  user: UserInfo,
  authorizer: Authorizer,
  deps: Pick<ApiServerDeps, "tokens">,
): Promise<Response> {
  if (req.method !== "POST" || t.name) throw methodNotAllowed(req.method, t);
  const head = { apiVersion: `${t.info.group}/v1`, kind: t.info.kind, metadata: { creationTimestamp: null } };
  if (t.info.kind === "SelfSubjectReview") return json({ ...head, status: { userInfo: user } }, 201);
  const body = ((await readBody(req)) ?? {}) as { spec?: AccessSpec };
  const spec = body.spec ?? {};
  switch (t.info.kind) {
    case "SelfSubjectAccessReview":
      return json({ ...head, spec, status: await decide(authorizer, user, spec) }, 201);
    case "SubjectAccessReview": {
      if (!spec.user && !spec.groups?.length)
        throw ApiError.invalid(
          "SubjectAccessReview",
          "",
          [
            {
              reason: "FieldValueInvalid",
              field: "spec.user",
              message: 'Invalid value: "": at least one of user or group must be specified',
            },
          ],
          "authorization.k8s.io",
        );
      const subject: UserInfo = {
        username: spec.user ?? "",
        groups: spec.groups ?? [],
        ...(spec.uid ? { uid: spec.uid } : {}),
      };
      return json({ ...head, spec, status: await decide(authorizer, subject, spec) }, 201);
    }
    case "SelfSubjectRulesReview": {
      const rules = await authorizer.rulesFor(user, spec.namespace ?? "");
      return json({ ...head, spec, status: rulesStatus(rules) }, 201);
    }
    case "TokenReview": {
      if (!deps.tokens)
        throw new ApiError("ServiceUnavailable", "this server checks no service-account tokens");
      const result = await deps.tokens.review(
        spec.token ?? "",
        spec.audiences?.length ? spec.audiences : undefined,
      );
      return json(
        {
          ...head,
          spec: { ...spec, token: undefined },
          status: {
            authenticated: result.authenticated,
            ...(result.user ? { user: result.user } : { user: {} }),
            ...(result.audiences ? { audiences: result.audiences } : {}),
            ...(result.error ? { error: result.error } : {}),
          },
        },
        201,
      );
    }
    default:
      throw methodNotAllowed(req.method, t);
  }
}

async function decide(authorizer: Authorizer, user: UserInfo, spec: AccessSpec) {
  const attributes = accessAttributes(spec);
  const decision = await authorizer.authorize(user, attributes);
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

function accessAttributes(spec: AccessSpec): RequestAttributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      resourceRequest: true,
      verb: r.verb ?? "",
      apiGroup: r.group ?? "",
      apiVersion: r.version ?? "",
      resource: r.resource ?? "",
      subresource: r.subresource ?? "",
      namespace: r.namespace ?? "",
      name: r.name ?? "",
    };
  }
  const n = spec.nonResourceAttributes;
  if (n) return { resourceRequest: false, verb: n.verb ?? "", path: n.path ?? "" };
  throw new ApiError(
    "BadRequest",
    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
  );
}

function rulesStatus(rules: PolicyRule[]) {
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({
      verbs: r.verbs,
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules
    .filter((r) => r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return { resourceRules, nonResourceRules, incomplete: false };
}
