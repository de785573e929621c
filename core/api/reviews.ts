import type { ResourceInfo } from "../resources.ts";
import { mediaType, readBytes } from "./body.ts";
import type { ExtraResource } from "./discovery.ts";
import { json } from "./respond.ts";
import { methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

/**
 * `kubectl auth can-i` and `kubectl auth whoami`. minik has one user, the holder of its token (or
 * anyone on loopback when anonymous access is on), and that user may do everything, so every
 * access review is allowed. Bodies (often protobuf) need no decoding for that answer.
 */
export const USER = { username: "minik-admin", groups: ["system:masters", "system:authenticated"] };

export const REVIEW_RESOURCES: ExtraResource[] = [
  {
    info: review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
    verbs: ["create"],
  },
  {
    info: review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    verbs: ["create"],
  },
  { info: review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"), verbs: ["create"] },
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

export async function handleReview(req: Request, t: Target): Promise<Response> {
  if (req.method !== "POST" || t.name) throw methodNotAllowed(req.method, t);
  const bytes = await readBytes(req);
  let spec: unknown = {};
  if (mediaType(req) === "application/json" || mediaType(req) === "") {
    try {
      spec = (JSON.parse(new TextDecoder().decode(bytes)) as { spec?: unknown }).spec ?? {};
    } catch {
      // the answer does not depend on the request
    }
  }
  const head = { apiVersion: `${t.info.group}/v1`, kind: t.info.kind, metadata: { creationTimestamp: null } };
  switch (t.info.kind) {
    case "SelfSubjectAccessReview":
      return json(
        {
          ...head,
          spec,
          status: { allowed: true, reason: "minik has a single user, who may do everything" },
        },
        201,
      );
    case "SelfSubjectRulesReview":
      return json(
        {
          ...head,
          spec,
          status: {
            resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
            nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
            incomplete: false,
          },
        },
        201,
      );
    default:
      return json({ ...head, status: { userInfo: USER } }, 201);
  }
}
