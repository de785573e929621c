import type { IngressHandler, IngressRequestInfo, UpgradeTarget } from "../seams/ingress-listener.ts";
import type { ProxyEndpoint } from "../seams/service-proxy.ts";
import { emptyRouteTable, matchRoute, requestHost } from "./ingress-match.ts";
import type { BackendTarget, IngressTable } from "./ingress-routes.ts";

/** Sends a request on to a pod; the platform's `fetch` (it must not decompress bodies). */
export type Forward = (url: string, init: RequestInit) => Promise<Response>;

export interface IngressRouter extends IngressHandler {
  /** Swaps the table at once; requests already forwarded finish against the endpoint they chose. */
  setTable(table: IngressTable): void;
}

// Connection-scoped headers a proxy must not pass on (RFC 9110 §7.6.1).
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

const WEBSOCKET_HANDSHAKE = [
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];

/**
 * The ingress controller's data path, web-standard: match host and path, pick the next ready
 * endpoint of the backend (round-robin), forward with X-Forwarded-* headers and stream both
 * bodies through. No rule and no default backend: 404; a backend without ready endpoints (or a
 * missing Service): 503; a pod that refuses the connection: 502 (a GET is tried once more on the
 * next endpoint first).
 */
export function createIngressRouter(forward: Forward): IngressRouter {
  let table: IngressTable = { routes: emptyRouteTable(), certificates: [] };
  const next = new Map<string, number>();

  function pick(target: BackendTarget): ProxyEndpoint | undefined {
    const n = target.endpoints.length;
    if (!n) return undefined;
    const i = (next.get(target.key) ?? 0) % n;
    next.set(target.key, i + 1);
    return target.endpoints[i];
  }

  /**
   * The backend for a request (its rule's, else the default backend) and the endpoint whose turn
   * it is; or the answer: 404 without any backend, 503 without a ready endpoint.
   */
  function choose(request: Request, url: URL): { target: BackendTarget; ep: ProxyEndpoint } | Response {
    const host = requestHost(request.headers.get("host") ?? url.host);
    const target = matchRoute(table.routes, host, url.pathname)?.backend ?? table.defaultBackend;
    if (!target) return text(404, "default backend - 404\n");
    const ep = pick(target);
    if (!ep) return unavailable(target);
    return { target, ep };
  }

  return {
    setTable(t) {
      table = t;
      // Forget counters of backends that are gone (bounded by the table's size).
      const live = new Set<string>();
      for (const list of [...t.routes.exact.values(), ...t.routes.wildcard.values(), t.routes.any])
        for (const r of list) live.add(r.backend.key);
      for (const k of next.keys()) if (!live.has(k)) next.delete(k);
    },
    upgradeTarget(request, info) {
      const url = new URL(request.url);
      const chosen = choose(request, url);
      if (chosen instanceof Response) return chosen;
      const { ep } = chosen;
      const headers = forwardedHeaders(request, info);
      // the listener's WebSocket client makes its own handshake
      for (const h of WEBSOCKET_HANDSHAKE) headers.delete(h);
      const protocols = (request.headers.get("sec-websocket-protocol") ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
      const upgrade: UpgradeTarget = {
        url: `ws://${hostPort(ep)}${url.pathname}${url.search}`,
        headers,
        protocols,
      };
      return upgrade;
    },
    async handle(request, info) {
      const url = new URL(request.url);
      const chosen = choose(request, url);
      if (chosen instanceof Response) return chosen;
      const { target, ep: first } = chosen;
      const headers = forwardedHeaders(request, info);
      const retryable = request.body === null && target.endpoints.length > 1;
      try {
        return relay(await send(forward, first, url, request, headers));
      } catch (e) {
        const second = retryable ? pick(target) : undefined;
        if (second && second !== first) {
          try {
            return relay(await send(forward, second, url, request, headers));
          } catch {}
        }
        return text(502, `502 Bad Gateway: ${target.key}: ${(e as Error).message}\n`);
      }
    },
  };
}

function unavailable(target: BackendTarget): Response {
  return text(503, `503 Service Unavailable: ${target.problem ?? `no ready endpoints for ${target.key}`}\n`);
}

function hostPort(ep: ProxyEndpoint): string {
  return `${ep.ip.includes(":") ? `[${ep.ip}]` : ep.ip}:${ep.port}`;
}

function send(forward: Forward, ep: ProxyEndpoint, url: URL, request: Request, headers: Headers) {
  const init: RequestInit & { duplex?: "half" } = {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
    signal: request.signal,
  };
  if (request.body) init.duplex = "half";
  return forward(`http://${hostPort(ep)}${url.pathname}${url.search}`, init);
}

/** The client's headers minus hop-by-hop ones, plus what the pod needs to know of the client. */
function forwardedHeaders(request: Request, info: IngressRequestInfo): Headers {
  const headers = new Headers(request.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  const prior = headers.get("x-forwarded-for");
  headers.set("x-forwarded-for", prior ? `${prior}, ${info.clientIp}` : info.clientIp);
  headers.set("x-real-ip", info.clientIp);
  headers.set("x-forwarded-proto", info.proto);
  headers.set("x-forwarded-host", request.headers.get("host") ?? new URL(request.url).host);
  headers.set("x-forwarded-port", String(info.port));
  return headers;
}

function relay(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
