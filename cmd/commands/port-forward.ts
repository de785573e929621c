import { ApiError } from "../../core/errors.ts";
import { ApiClient } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { platform } from "../platform/index.ts";
import { UsageError } from "../usage-error.ts";

/**
 * `minik port-forward pod/NAME|svc/NAME LOCAL:REMOTE`: listens on 127.0.0.1:LOCAL and relays each
 * connection to the pod. minik's pods are routable from the host that runs them, so the CLI
 * connects to the pod IP straight (kubectl's port-forward goes through the API instead).
 */
export async function portForward(
  target: string,
  mappings: string[],
  opts: GlobalOptions & { address?: string },
) {
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const ports = mappings.map(parseMapping);
  const { pod, remotePorts } = await resolve(
    api,
    ns,
    target,
    ports.map((p) => p.remote),
  );
  const ip = pod.status?.podIP;
  if (!ip)
    throw new ApiError(
      "BadRequest",
      `pod ${pod.metadata.name} has no IP yet (phase ${pod.status?.phase ?? "Pending"})`,
    );
  const hostname = opts.address ?? "127.0.0.1";
  for (const [i, p] of ports.entries()) {
    const remote = remotePorts[i]!;
    const relay = platform.relayTcp({ hostname, port: p.local }, { hostname: ip, port: remote });
    console.log(`Forwarding from ${hostname}:${relay.port} -> ${remote}`);
  }
  await new Promise(() => {});
}

function parseMapping(m: string): { local: number; remote: number } {
  const [a, b] = m.split(":");
  const local = a === "" ? 0 : Number(a);
  const remote = Number(b ?? a);
  if (!Number.isInteger(local) || !Number.isInteger(remote) || remote < 1 || remote > 65535) {
    throw new UsageError(`invalid port mapping "${m}": use LOCAL:REMOTE`);
  }
  return { local, remote };
}

async function resolve(api: ApiClient, ns: string, target: string, remotes: number[]) {
  const [kind, name] = target.includes("/") ? target.split("/") : ["pod", target];
  if (/^(pods?|po)$/.test(kind!)) {
    return { pod: await api.get<any>(`/api/v1/namespaces/${ns}/pods/${name}`), remotePorts: remotes };
  }
  if (/^(services?|svc)$/.test(kind!)) {
    const svc = await api.get<any>(`/api/v1/namespaces/${ns}/services/${name}`);
    const selector = Object.entries(svc.spec.selector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    if (!selector)
      throw new ApiError("BadRequest", `service ${name} has no selector, so it has no pods to forward to`);
    const pods = (
      await api.get<{ items: any[] }>(`/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector } })
    ).items;
    const pod = pods.find((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp);
    if (!pod) throw new ApiError("NotFound", `no running pod behind service ${name}`);
    const remotePorts = remotes.map((r) => {
      const sp = (svc.spec.ports ?? []).find((p: any) => p.port === r);
      if (!sp) return r;
      if (typeof sp.targetPort === "number") return sp.targetPort;
      for (const c of pod.spec.containers)
        for (const cp of c.ports ?? []) if (cp.name === sp.targetPort) return cp.containerPort;
      return r;
    });
    return { pod, remotePorts };
  }
  throw new UsageError(`port-forward works on pod/NAME and svc/NAME, not "${target}"`);
}
