import { ApiError } from "../errors.ts";
import { findByPlural, type ResourceInfo, resourceKey } from "../resources.ts";
import type { ExtraResource } from "./discovery.ts";
import type { Printer } from "./printers/index.ts";

/** What a resource URL addresses: `/apis/apps/v1/namespaces/default/deployments/web/scale`. */
export interface Target {
  info: ResourceInfo;
  /** Store key (`deployments.apps`). */
  resource: string;
  /** undefined = all namespaces (or cluster-scoped). */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** For `…/proxy/<path>`: the rest of the URL path as sent (still percent-encoded), "/" at least. */
  proxyPath?: string;
  /** Table columns when the kind has no built-in printer (custom resources). */
  printer?: Printer;
}

/**
 * Parses `/api/v1/...` and `/apis/<group>/<version>/...`. Returns undefined for paths that are
 * not resource paths (discovery, unknown group-versions), so the caller can answer 404.
 */
export function parseTarget(pathname: string, extra: ExtraResource[]): Target | undefined {
  const segments = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    group = "";
    version = segments[1] ?? "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis") {
    group = segments[1] ?? "";
    version = segments[2] ?? "";
    rest = segments.slice(3);
  } else return undefined;
  if (rest.length === 0) return undefined;
  const find = (plural: string) => {
    const info =
      findByPlural(group, plural) ??
      extra.find((e) => e.info.group === group && e.info.plural === plural && e.info.version === version)
        ?.info;
    return info && info.version === version ? info : undefined;
  };
  // namespaces/<ns>/<plural>[/<name>[/<sub>]] unless it is the namespace object's own subresource
  if (
    rest[0] === "namespaces" &&
    rest.length >= 3 &&
    !(rest.length === 3 && group === "" && isNamespaceSub(rest[2]!))
  ) {
    const info = find(rest[2]!);
    if (!info) return undefined;
    if (!info.namespaced)
      throw new ApiError(
        "NotFound",
        `${rest[2]} is cluster-scoped: use ${pathname.replace(/\/namespaces\/[^/]+/, "")}`,
      );
    if (rest.length > 5 && rest[4] !== "proxy") return undefined;
    const target: Target = {
      info,
      resource: resourceKey(info),
      namespace: rest[1],
      name: rest[3],
      subresource: rest[4],
    };
    if (rest[4] === "proxy") target.proxyPath = proxyPathOf(pathname, segments.length - rest.length + 5);
    return target;
  }
  const info = find(rest[0]!);
  if (!info || rest.length > 3) return undefined;
  if (info.namespaced && rest.length > 1) return undefined;
  return { info, resource: resourceKey(info), name: rest[1], subresource: rest[2] };
}

/** The raw path after the `proxy` segment (index `after` counts the segments before it). */
function proxyPathOf(pathname: string, after: number): string {
  const raw = pathname.split("/").filter(Boolean);
  const tail = raw.slice(after).join("/");
  return `/${tail}${tail && pathname.endsWith("/") ? "/" : ""}`;
}

function isNamespaceSub(s: string): boolean {
  return s === "status" || s === "finalize";
}
