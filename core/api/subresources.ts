import type { LabelSelector } from "kubernetes-types/meta/v1";
import type { WriteOptions } from "../client.ts";
import { ApiError, isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Registry } from "../registry/registry.ts";
import { mediaType, PATCH_TYPES, readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { deleteOptions, writeOptions } from "./options.ts";
import { selectorString } from "./printers/printer.ts";
import { json, successStatus, warningHeader } from "./respond.ts";
import { methodNotAllowed, objectForTarget, respondObject } from "./rest.ts";
import type { Target } from "./target.ts";

/** /status: the whole object, but writes change only its status. */
export async function handleStatus(
  req: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  const ns = t.namespace ?? "";
  const warnings: string[] = [];
  switch (req.method) {
    case "GET":
      return respondObject(req, url, t, await deps.client.get(t.resource, ns, t.name!));
    case "PUT": {
      const obj = objectForTarget(await readBody(req), t);
      return respondObject(
        req,
        url,
        t,
        await deps.client.updateStatus(t.resource, obj, writeOptions(url, warnings)),
        200,
        warnings,
      );
    }
    case "PATCH": {
      const type = PATCH_TYPES[mediaType(req)]!;
      const body = await readBody(req, "patch");
      const patched = await deps.client.patch(t.resource, ns, t.name!, type, body, {
        ...writeOptions(url, warnings),
        subresource: "status",
      });
      return respondObject(req, url, t, patched, 200, warnings);
    }
    default:
      throw methodNotAllowed(req.method, t);
  }
}

/** The autoscaling/v1 Scale view of an object with spec.replicas. */
export function toScale(obj: KubeObject) {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: LabelSelector };
  const status = (obj.status ?? {}) as { replicas?: number };
  const selector = selectorString(spec.selector);
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: selector === "<none>" ? "" : selector },
  };
}

/**
 * /scale. PUT carries a Scale (kubectl sends it without Content-Type); its resourceVersion, when
 * set, is a precondition. PATCH patches the Scale view and writes back spec.replicas.
 */
export async function handleScale(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const ns = t.namespace ?? "";
  const warnings: string[] = [];
  const headers = () => {
    const h = new Headers();
    for (const w of warnings) h.append("Warning", warningHeader(w));
    return h;
  };
  switch (req.method) {
    case "GET":
      return json(toScale(await deps.client.get(t.resource, ns, t.name!)));
    case "PUT": {
      const scale = (await readBody(req)) as {
        kind?: string;
        metadata?: { resourceVersion?: string };
        spec?: { replicas?: unknown };
      };
      if (scale?.kind && scale.kind !== "Scale")
        throw new ApiError("BadRequest", `expected a Scale object, got ${scale.kind}`);
      const replicas = replicasOf(scale?.spec?.replicas);
      const updated = await setReplicas(
        deps,
        t,
        replicas,
        scale?.metadata?.resourceVersion,
        writeOptions(url, warnings),
      );
      return json(toScale(updated), 200, headers());
    }
    case "PATCH": {
      const type = PATCH_TYPES[mediaType(req)]!;
      const body = await readBody(req, "patch");
      const updated = await deps.client.patch<KubeObject>(t.resource, ns, t.name!, type, body, {
        ...writeOptions(url, warnings),
        subresource: "scale",
      });
      return json(updated.kind === "Scale" ? updated : toScale(updated), 200, headers());
    }
    default:
      throw methodNotAllowed(req.method, t);
  }
}

/** Writes spec.replicas; a given resourceVersion is a precondition, otherwise conflicts are retried. */
async function setReplicas(
  deps: ApiServerDeps,
  t: Target,
  replicas: number,
  resourceVersion: string | undefined,
  options: WriteOptions,
) {
  for (let attempt = 0; ; attempt++) {
    const obj = await deps.client.get(t.resource, t.namespace ?? "", t.name!);
    if (resourceVersion && obj.metadata.resourceVersion !== resourceVersion) {
      throw ApiError.conflict(t.info.plural, t.name!, t.info.group);
    }
    obj.spec = { ...(obj.spec as object), replicas };
    try {
      return await deps.client.update(t.resource, obj, options);
    } catch (e) {
      if (resourceVersion || attempt >= 5 || !isApiError(e, "Conflict")) throw e;
    }
  }
}

function replicasOf(value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw ApiError.invalid(
      "Scale",
      "",
      [
        {
          field: "spec.replicas",
          message: `Invalid value: ${JSON.stringify(value)}: must be a whole number, 0 or more`,
        },
      ],
      "autoscaling",
    );
  }
  return value;
}

/** POST pods/<name>/eviction: a delete with the Eviction's deleteOptions, refused (429) by a PodDisruptionBudget. */
export async function handleEviction(
  req: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  if (req.method !== "POST") throw methodNotAllowed(req.method, t);
  const eviction = (await readBody(req)) as {
    kind?: string;
    metadata?: { name?: string };
    deleteOptions?: unknown;
  };
  if (eviction?.kind && eviction.kind !== "Eviction")
    throw new ApiError("BadRequest", `expected an Eviction object, got ${eviction.kind}`);
  if (eviction?.metadata?.name && eviction.metadata.name !== t.name) {
    throw new ApiError(
      "BadRequest",
      `the Eviction names pod "${eviction.metadata.name}" but the URL names "${t.name}"`,
    );
  }
  const options = deleteOptions(url, eviction?.deleteOptions);
  // The registry's evict honours PodDisruptionBudgets (429 when none may be spent); a plain
  // Client (tests) has no budgets to honour.
  const evictor = deps.client as Partial<Pick<Registry, "evict">>;
  const pod = evictor.evict
    ? await evictor.evict(t.namespace ?? "", t.name!, options)
    : await deps.client.delete(t.resource, t.namespace ?? "", t.name!, options);
  return json({ ...successStatus({ name: t.name, kind: "pods", uid: pod.metadata.uid }), code: 201 }, 201);
}
