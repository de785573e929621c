import type { Pod, Service } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { readBytes } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { encodeRequest, isHopByHop, readResponse } from "./http1.ts";
import { requireNode } from "./logs.ts";
import type { Target } from "./target.ts";

/**
 * pods/<name[:port]>/proxy/<path> and services/<name[:port]>/proxy/<path>: one HTTP request
 * relayed into a pod through NodeServices.portForward (what `kubectl proxy` users browse).
 * A Service goes to one of its ready pods. minik's own credentials are not passed on.
 */
export async function handleProxy(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const node = requireNode(deps);
  const ns = t.namespace ?? "default";
  const [scheme, name, port] = splitName(t.name!);
  if (scheme === "https")
    throw new ApiError("BadRequest", `proxying to https is not supported: use http (${t.name})`);
  const { pod, podPort } =
    t.info.plural === "services"
      ? await serviceBackend(deps, ns, name, port)
      : await podBackend(deps, ns, name, port);
  const conn = await node.portForward(ns, pod.metadata.name!, podPort).catch((e: Error) => {
    throw new ApiError(
      "ServiceUnavailable",
      `error trying to reach pod ${pod.metadata.name}:${podPort}: ${e.message}`,
    );
  });
  try {
    const headers = new Headers();
    req.headers.forEach((value, key) => {
      if (!isHopByHop(key) && !["host", "authorization", "cookie", "content-length"].includes(key))
        headers.set(key, value);
    });
    headers.set("host", `${pod.metadata.name}:${podPort}`);
    const body = req.method === "GET" || req.method === "HEAD" ? new Uint8Array() : await readBytes(req);
    const writer = conn.writable.getWriter();
    await writer.write(encodeRequest(req.method, `${t.proxyPath ?? "/"}${url.search}`, headers, body));
    writer.releaseLock();
    const res = await readResponse(conn.readable);
    // The pod's pages are served from minik's origin: sandbox them into an opaque origin so their
    // scripts cannot use the dashboard session against the API, and let them set no cookies here.
    res.headers.delete("set-cookie");
    res.headers.set("content-security-policy", "sandbox allow-scripts allow-forms allow-popups");
    return new Response(req.method === "HEAD" ? null : res.body, {
      status: res.status,
      headers: res.headers,
    });
  } catch (e) {
    conn.close();
    throw e instanceof ApiError
      ? e
      : new ApiError(
          "ServiceUnavailable",
          `error trying to reach pod ${pod.metadata.name}:${podPort}: ${(e as Error).message}`,
        );
  }
}

/** `name`, `name:port`, `https:name:port` → [scheme, name, port]. */
function splitName(raw: string): [string, string, string | undefined] {
  const parts = raw.split(":");
  if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]];
  return ["http", parts[0]!, parts[1]];
}

type PodObject = Pod & KubeObject;

async function podBackend(deps: ApiServerDeps, ns: string, name: string, port: string | undefined) {
  const pod = (await deps.client.get("pods", ns, name)) as unknown as PodObject;
  return { pod, podPort: containerPort(pod, port ?? firstPort(pod)) };
}

async function serviceBackend(deps: ApiServerDeps, ns: string, name: string, port: string | undefined) {
  const svc = (await deps.client.get("services", ns, name)) as unknown as Service & KubeObject;
  const ports = svc.spec?.ports ?? [];
  const chosen =
    port === undefined ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
  if (!chosen)
    throw new ApiError(
      "ServiceUnavailable",
      `no service port ${JSON.stringify(port ?? "")} found for service "${name}"`,
    );
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const pods = selector
    ? (await deps.client.list("pods", { namespace: ns, labelSelector: selector })).items
    : [];
  const ready = (pods as unknown as PodObject[]).find(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );
  if (!ready) throw new ApiError("ServiceUnavailable", `no endpoints available for service "${name}"`);
  return { pod: ready, podPort: containerPort(ready, String(chosen.targetPort ?? chosen.port)) };
}

function firstPort(pod: PodObject): string {
  return String(pod.spec?.containers?.flatMap((c) => c.ports ?? [])[0]?.containerPort ?? 80);
}

/** A port number, or a container port name looked up in the pod. */
function containerPort(pod: PodObject, port: string): number {
  if (/^\d+$/.test(port)) return Number(port);
  const named = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
  if (!named)
    throw new ApiError("ServiceUnavailable", `pod ${pod.metadata.name} has no port named "${port}"`);
  return named.containerPort;
}
