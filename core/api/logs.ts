import type { Pod } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { Client } from "../seams/client.ts";
import type { NodeServices } from "../seams/node-services.ts";
import { queryFlag } from "./options.ts";
import { methodNotAllowed } from "./rest.ts";
import type { Target } from "./target.ts";

/** pods/<name>/log: the container's output as text/plain, streamed chunk by chunk (follow keeps it open). */
/** What the pod subresources (log, exec, attach, portforward) need: the API server's deps, or a node API's. */
export interface PodRouteDeps {
  client: Pick<Client, "get">;
  node?: NodeServices;
}

export async function handleLogs(req: Request, url: URL, t: Target, deps: PodRouteDeps): Promise<Response> {
  if (req.method !== "GET") throw methodNotAllowed(req.method, t);
  const node = requireNode(deps);
  const q = url.searchParams;
  const pod = (await deps.client.get(t.resource, t.namespace ?? "", t.name!)) as unknown as Pod & {
    metadata: { name: string };
  };
  const container = pickContainer(pod, q.get("container"));
  const stream = await node.logs(t.namespace ?? "", t.name!, container, {
    follow: queryFlag(q.get("follow")),
    timestamps: queryFlag(q.get("timestamps")),
    previous: queryFlag(q.get("previous")),
    tailLines: count(q.get("tailLines"), "tailLines"),
    limitBytes: count(q.get("limitBytes"), "limitBytes"),
    sinceSeconds: sinceSeconds(q.get("sinceSeconds"), q.get("sinceTime")),
    signal: req.signal,
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/plain",
      "Cache-Control": "no-cache, private",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

export function requireNode(deps: PodRouteDeps): NodeServices {
  if (!deps.node)
    throw new ApiError(
      "ServiceUnavailable",
      "no node is attached to this API server: start it with `minik up`",
    );
  return deps.node;
}

/** The named container, or the default one (annotation, then the only or first container). */
export function pickContainer(pod: Pod & { metadata: { name: string } }, requested: string | null): string {
  const names = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (requested) {
    if (!names.includes(requested)) {
      throw new ApiError(
        "BadRequest",
        `container ${requested} is not valid for pod ${pod.metadata.name}: choose one of: [${names.join(" ")}]`,
      );
    }
    return requested;
  }
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  if (annotated && names.includes(annotated)) return annotated;
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  throw new ApiError(
    "BadRequest",
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.map((c) => c.name).join(" ")}]`,
  );
}

function count(v: string | null, name: string): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new ApiError("BadRequest", `invalid ${name} "${v}": use a whole number, 0 or more`);
  return n;
}

function sinceSeconds(seconds: string | null, time: string | null): number | undefined {
  if (seconds) return count(seconds, "sinceSeconds");
  if (!time) return undefined;
  const t = Date.parse(time);
  if (Number.isNaN(t)) throw new ApiError("BadRequest", `invalid sinceTime "${time}": use an RFC 3339 time`);
  return Math.max(0, Math.ceil((Date.now() - t) / 1000));
}
