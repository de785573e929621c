/**
 * What a request asks to do, in the terms RBAC decides on (kube-apiserver's RequestInfo): a verb on
 * a resource (group, resource, subresource, namespace, name) or a verb on a non-resource URL.
 */
export type RequestAttributes =
  | {
      resourceRequest: true;
      verb: string;
      apiGroup: string;
      apiVersion: string;
      resource: string;
      subresource: string;
      namespace: string;
      name: string;
    }
  | { resourceRequest: false; verb: string; path: string };

const HTTP_VERBS: Record<string, string> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

export function requestAttributes(method: string, url: URL): RequestAttributes {
  const segments = url.pathname.split("/").filter(Boolean).map(safeDecode);
  const nonResource = { resourceRequest: false as const, verb: method.toLowerCase(), path: url.pathname };
  let apiGroup: string;
  let apiVersion: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    apiGroup = "";
    apiVersion = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    apiGroup = segments[1]!;
    apiVersion = segments[2]!;
    rest = segments.slice(3);
  } else return nonResource;

  let verb = HTTP_VERBS[method] ?? method.toLowerCase();
  // the old /api/v1/watch/... form
  if (rest[0] === "watch") {
    verb = "watch";
    rest = rest.slice(1);
  }
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 2) {
    namespace = rest[1]!;
    // /namespaces/NAME and /namespaces/NAME/status|finalize address the Namespace itself
    rest =
      rest.length === 2 || (rest.length === 3 && apiGroup === "" && isNamespaceSub(rest[2]!))
        ? rest
        : rest.slice(2);
  }
  const [resource = "", name = "", subresource = "", ...tail] = rest;
  // proxy paths carry more segments; only the first names the subresource
  void tail;
  if (!name && verb === "get") {
    verb = isWatch(url) ? "watch" : "list";
  } else if (!name && verb === "delete") verb = "deletecollection";
  else if (name && verb === "get" && isWatch(url)) verb = "watch";
  return { resourceRequest: true, verb, apiGroup, apiVersion, resource, subresource, namespace, name };
}

function isWatch(url: URL): boolean {
  const w = url.searchParams.get("watch");
  return w === "true" || w === "1";
}

function isNamespaceSub(s: string): boolean {
  return s === "status" || s === "finalize";
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
