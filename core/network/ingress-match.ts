/**
 * Ingress matching as Kubernetes 1.32 defines it: hosts exactly or by a one-label `*.` wildcard;
 * Exact paths by string equality, Prefix paths element by element (`/foo` matches `/foo` and
 * `/foo/bar`, not `/foobar`; a trailing slash is ignored); ImplementationSpecific as Prefix.
 * Among matching rules the most specific host wins (exact, then wildcard, then a rule without
 * host), then the longest path, then Exact over Prefix. Pure.
 */
export interface PathRoute<B> {
  path: string;
  pathType: "Exact" | "Prefix";
  backend: B;
}

export interface RouteTable<B> {
  /** Exact hosts → their paths, most specific first (see sortRoutes). */
  exact: Map<string, PathRoute<B>[]>;
  /** `*.example.com` rules, keyed by `example.com`. */
  wildcard: Map<string, PathRoute<B>[]>;
  /** Rules without a host. */
  any: PathRoute<B>[];
}

export function emptyRouteTable<B>(): RouteTable<B> {
  return { exact: new Map(), wildcard: new Map(), any: [] };
}

/** Adds a path under a rule's host (`""`: any host). Call sortRoutes once all are in. */
export function addRoute<B>(table: RouteTable<B>, host: string, route: PathRoute<B>): void {
  const h = host.toLowerCase();
  if (!h) table.any.push(route);
  else if (h.startsWith("*.")) push(table.wildcard, h.slice(2), route);
  else push(table.exact, h, route);
}

function push<B>(map: Map<string, PathRoute<B>[]>, key: string, route: PathRoute<B>): void {
  const list = map.get(key);
  if (list) list.push(route);
  else map.set(key, [route]);
}

/** Longest path first, Exact before Prefix at equal length; ties keep insertion (oldest Ingress) order. */
export function sortRoutes<B>(table: RouteTable<B>): void {
  const order = (a: PathRoute<B>, b: PathRoute<B>) =>
    significant(b).length - significant(a).length ||
    (a.pathType === b.pathType ? 0 : a.pathType === "Exact" ? -1 : 1);
  for (const list of [...table.exact.values(), ...table.wildcard.values(), table.any]) list.sort(order);
}

/** The part of a path that counts for its length: a Prefix's trailing slash does not. */
function significant(route: PathRoute<unknown>): string {
  return route.pathType === "Prefix" ? trimSlash(route.path) : route.path;
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, "");
}

export function pathMatches(route: PathRoute<unknown>, path: string): boolean {
  if (route.pathType === "Exact") return path === route.path;
  const prefix = trimSlash(route.path);
  return prefix === "" || path === prefix || path.startsWith(`${prefix}/`);
}

/** The request's host without port, lower case (`Host: Foo.example.com:8080` → `foo.example.com`). */
export function requestHost(hostHeader: string | null): string {
  const h = (hostHeader ?? "").toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

export function matchRoute<B>(table: RouteTable<B>, host: string, path: string): PathRoute<B> | undefined {
  const dot = host.indexOf(".");
  const candidates = [
    table.exact.get(host),
    dot > 0 ? table.wildcard.get(host.slice(dot + 1)) : undefined,
    table.any,
  ];
  for (const routes of candidates) {
    const hit = routes?.find((r) => pathMatches(r, path));
    if (hit) return hit;
  }
  return undefined;
}
