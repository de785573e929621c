import { checkEscalation, needsEscalationCheck } from "../auth/escalation.ts";
import { impersonate } from "../auth/impersonation.ts";
import { type Authorizer, forbidden, RBAC_GROUP } from "../auth/rbac-authorizer.ts";
import { requestAttributes } from "../auth/request-attributes.ts";
import type { UserInfo } from "../auth/user.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import type { Authenticator } from "./auth.ts";
import { mediaType, PATCH_TYPES, readBody } from "./body.ts";
import { writeOptions } from "./options.ts";

/**
 * Every non-public request passes here: authenticate (401), apply impersonation headers, authorize
 * the verb on the resource or path (403 with Kubernetes' Forbidden text), and for writes of RBAC
 * objects check that nothing is granted beyond what the user holds. Returns the acting user.
 */
export type AccessCheck = (req: Request, loopback: boolean, write: boolean) => Promise<UserInfo>;

export function createAccessCheck(
  auth: Authenticator,
  authorizer: Authorizer,
  client: Pick<Client, "tryGet" | "patch">,
): AccessCheck {
  return async (req, loopback, write) => {
    const user = await impersonate(req, await auth.authenticate(req, loopback, write), authorizer);
    const attributes = requestAttributes(req.method, new URL(req.url));
    const decision = await authorizer.authorize(user, attributes);
    if (!decision.allowed) throw forbidden(user, attributes);
    if (attributes.resourceRequest && needsEscalationCheck(user, attributes)) {
      const body =
        attributes.verb === "patch"
          ? await patchedObject(req, attributes, client)
          : ((await readBody(req.clone())) as KubeObject);
      await checkEscalation(user, attributes, body, authorizer, client);
    }
    return user;
  };
}

/** What a PATCH would store (a dry run of it), so its rules can be checked before it is applied. */
async function patchedObject(
  req: Request,
  a: { resource: string; namespace: string; name: string },
  client: Pick<Client, "patch">,
): Promise<KubeObject | undefined> {
  const type = PATCH_TYPES[mediaType(req)];
  if (!type) return undefined;
  const patch = await readBody(req.clone(), "patch");
  const options = writeOptions(new URL(req.url), []);
  // a patch that cannot apply fails here with the error the request itself would get
  return client.patch(`${a.resource}.${RBAC_GROUP}`, a.namespace, a.name, type, patch, {
    ...options,
    dryRun: true,
  });
}
