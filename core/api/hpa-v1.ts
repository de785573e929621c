import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { findByPlural, resourceKey } from "../resources.ts";
import { readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { ALL_VERBS, type ExtraResource } from "./discovery.ts";
import { withoutProtobuf } from "./negotiation.ts";
import { queryFlag, writeOptions } from "./options.ts";
import { convertResponse, type ServedVersion } from "./response-conversion.ts";
import { handleResource, methodNotAllowed, objectForTarget, respondObject } from "./rest.ts";
import type { Target } from "./target.ts";

/**
 * autoscaling/v1 HorizontalPodAutoscalers, which `kubectl autoscale` still creates (as protobuf),
 * served by converting to and from the stored autoscaling/v2 objects:
 * `targetCPUUtilizationPercentage` ⇄ a Resource cpu Utilization metric.
 */
const PATH =
  /^\/apis\/autoscaling\/v1\/(?:namespaces\/([^/]+)\/)?horizontalpodautoscalers(?:\/([^/]+))?(?:\/(status))?$/;
const V1 = "autoscaling/v1";

/** autoscaling/v1 in discovery (aggregated and legacy), beside the stored v2. */
export const HPA_V1_RESOURCES: ExtraResource[] = (() => {
  const v2 = findByPlural("autoscaling", "horizontalpodautoscalers");
  // its status is read and written through v2 only
  return v2 ? [{ info: { ...v2, version: "v1", subresources: [] }, verbs: ALL_VERBS }] : [];
})();

const V1_SERVED: ServedVersion = {
  kind: "HorizontalPodAutoscaler",
  listKind: "HorizontalPodAutoscalerList",
  apiVersion: V1,
  convert: (obj) => toV1(obj),
};

export function parseHpaV1Target(pathname: string): Target | undefined {
  const m = PATH.exec(pathname);
  const info = findByPlural("autoscaling", "horizontalpodautoscalers");
  if (!m || !info) return undefined;
  return { info, resource: resourceKey(info), namespace: m[1], name: m[2], subresource: m[3] };
}

export async function handleHpaV1(
  request: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  const req = withoutProtobuf(request, V1_SERVED);
  if (t.subresource)
    throw new ApiError(
      "NotFound",
      "autoscaling/v1 horizontalpodautoscalers/status is not served: use autoscaling/v2",
    );
  const warnings: string[] = [];
  // the answer as for any kind (Table, PartialObjectMetadata, YAML), then in v1
  const respond = (obj: KubeObject, code = 200) =>
    convertResponse(respondObject(req, url, t, obj, code, warnings), V1_SERVED, { watch: false });
  switch (req.method) {
    case "GET": {
      // get, list (paged), watch, Table, PartialObjectMetadata and YAML as for any kind, then v1
      const watch = !t.name && queryFlag(url.searchParams.get("watch"));
      return convertResponse(await handleResource(req, url, t, deps), V1_SERVED, { watch });
    }
    case "POST":
    case "PUT": {
      const body = (await readBody(req)) as KubeObject;
      if (body?.apiVersion && body.apiVersion !== V1)
        throw new ApiError("BadRequest", `expected ${V1}, got ${body.apiVersion}`);
      const obj = objectForTarget(toV2(body), req.method === "POST" ? { ...t, name: undefined } : t);
      const options = writeOptions(url, warnings, req);
      if (req.method === "POST") return respond(await deps.client.create(t.resource, obj, options), 201);
      return respond(await deps.client.update(t.resource, obj, options));
    }
    case "DELETE":
      return handleResource(req, url, t, deps);
    default:
      throw methodNotAllowed(req.method, t);
  }
}

type Metric = {
  type?: string;
  resource?: {
    name?: string;
    target?: { type?: string; averageUtilization?: number };
    current?: { averageUtilization?: number };
  };
};

export function toV2(v1: KubeObject): KubeObject {
  const spec = (v1.spec ?? {}) as Record<string, unknown>;
  const { targetCPUUtilizationPercentage: cpu, ...rest } = spec;
  const metrics =
    typeof cpu === "number"
      ? [
          {
            type: "Resource",
            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpu } },
          },
        ]
      : undefined;
  return { ...v1, apiVersion: "autoscaling/v2", spec: { ...rest, ...(metrics ? { metrics } : {}) } };
}

export function toV1(v2: KubeObject): KubeObject {
  const { metrics, ...spec } = (v2.spec ?? {}) as { metrics?: Metric[] };
  const isCpu = (m: Metric) => m.type === "Resource" && m.resource?.name === "cpu";
  const target = metrics?.find(isCpu)?.resource?.target?.averageUtilization;
  const {
    currentMetrics,
    conditions: _,
    ...status
  } = (v2.status ?? {}) as { currentMetrics?: Metric[]; conditions?: unknown };
  const current = currentMetrics?.find(isCpu)?.resource?.current?.averageUtilization;
  return {
    ...v2,
    apiVersion: V1,
    kind: "HorizontalPodAutoscaler",
    spec: { ...spec, ...(target !== undefined ? { targetCPUUtilizationPercentage: target } : {}) },
    status: { ...status, ...(current !== undefined ? { currentCPUUtilizationPercentage: current } : {}) },
  };
}
