import {
  apiVersionOfDeprecated,
  DEPRECATED_VERSIONS,
  type DeprecatedVersion,
  deprecationWarning,
  fromStored,
} from "../deprecated-versions.ts";
import { findByKind, resourceKey } from "../resources.ts";
import type { ApiServerDeps } from "./deps.ts";
import { ALL_VERBS, type ExtraResource } from "./discovery.ts";
import { withoutProtobuf } from "./negotiation.ts";
import { queryFlag } from "./options.ts";
import { statusResponse } from "./respond.ts";
import { convertResponse } from "./response-conversion.ts";
import { handleResource } from "./rest.ts";
import { handleScale, handleStatus } from "./subresources.ts";
import type { Target } from "./target.ts";

/**
 * REST for the deprecated Deployment versions (core/deprecated-versions.ts): the request runs
 * against the stored apps/v1 resource (a body in the old version is converted by the registry,
 * with that version's defaults), the answer is converted back, and every answer carries the
 * deprecation `Warning`, as kube-apiserver 1.15 did.
 */
export const DEPRECATED_RESOURCES: ExtraResource[] = DEPRECATED_VERSIONS.map((v) => ({
  info: v.info,
  verbs: ALL_VERBS,
}));

const PATH = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

export interface DeprecatedTarget {
  version: DeprecatedVersion;
  /** The same request on the stored resource. */
  stored: Target;
}

export function parseDeprecatedTarget(pathname: string): DeprecatedTarget | undefined {
  const m = PATH.exec(pathname);
  if (!m) return undefined;
  const [, group, version, namespace, plural, name, subresource] = m.map((s) =>
    s === undefined ? s : decodeURIComponent(s),
  );
  const v = DEPRECATED_VERSIONS.find(
    (d) => d.info.group === group && d.info.version === version && d.info.plural === plural,
  );
  const stored = v && findByKind(v.storedAs, v.info.kind);
  if (!v || !stored) return undefined;
  return {
    version: v,
    stored: { info: stored, resource: resourceKey(stored), namespace, name, subresource },
  };
}

export async function handleDeprecated(
  request: Request,
  url: URL,
  t: DeprecatedTarget,
  deps: ApiServerDeps,
): Promise<Response> {
  const req = withoutProtobuf(request, {
    kind: t.version.info.kind,
    apiVersion: apiVersionOfDeprecated(t.version),
  });
  let res: Response;
  try {
    res = await dispatch(req, url, t.stored, deps);
  } catch (e) {
    // errors keep their Status; the warning still goes with them
    res = statusResponse(e);
  }
  const v = t.version;
  return convertResponse(
    res,
    {
      kind: v.info.kind,
      listKind: v.info.listKind,
      apiVersion: apiVersionOfDeprecated(v),
      convert: (obj) => fromStored(v, obj),
    },
    {
      watch: t.stored.name === undefined && queryFlag(url.searchParams.get("watch")),
      warning: deprecationWarning(v),
    },
  );
}

function dispatch(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  if (t.subresource === "status") return handleStatus(req, url, t, deps);
  if (t.subresource === "scale") return handleScale(req, url, t, deps);
  return handleResource(req, url, t, deps);
}
