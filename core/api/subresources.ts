import type { Binding } from "kubernetes-types/core/v1";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { mediaType, PATCH_TYPES, readBody } from "./body.ts";
import type { ApiServerDeps } from "./deps.ts";
import { deleteOptions, writeOptions } from "./options.ts";
import { json, successStatus, warningHeaders } from "./respond.ts";
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
        await deps.client.updateStatus(t.resource, obj, writeOptions(url, warnings, req)),
        200,
        warnings,
      );
    }
    case "PATCH": {
      const type = PATCH_TYPES[mediaType(req)]!;
      const body = await readBody(req, "patch");
      const patched = await deps.client.patch(t.resource, ns, t.name!, type, body, {
        ...writeOptions(url, warnings, req),
        subresource: "status",
      });
      return respondObject(req, url, t, patched, 200, warnings);
    }
    default:
      throw methodNotAllowed(req.method, t);
  }
}

/**
 * /scale through the registry: GET and PUT (kubectl sends the Scale without Content-Type; its
 * resourceVersion is a precondition), PATCH of the Scale view.
 */
export async function handleScale(req: Request, url: URL, t: Target, deps: ApiServerDeps): Promise<Response> {
  const ns = t.namespace ?? "";
  const warnings: string[] = [];
  const respond = (scale: KubeObject) => json(scale, 200, warningHeaders(warnings));
  switch (req.method) {
    case "GET":
      return respond(await deps.client.getScale(t.resource, ns, t.name!));
    case "PUT": {
      const scale = (await readBody(req)) as KubeObject;
      if (scale?.kind && scale.kind !== "Scale")
        throw new ApiError("BadRequest", `expected a Scale object, got ${scale.kind}`);
      return respond(
        await deps.client.updateScale(t.resource, ns, t.name!, scale, writeOptions(url, warnings, req)),
      );
    }
    case "PATCH": {
      const type = PATCH_TYPES[mediaType(req)]!;
      const body = await readBody(req, "patch");
      const options = { ...writeOptions(url, warnings, req), subresource: "scale" as const };
      const patched = await deps.client.patch<KubeObject>(t.resource, ns, t.name!, type, body, options);
      return respond(
        patched.kind === "Scale" ? patched : await deps.client.getScale(t.resource, ns, t.name!),
      );
    }
    default:
      throw methodNotAllowed(req.method, t);
  }
}

/** POST pods/<name>/eviction: the registry deletes the pod unless a PodDisruptionBudget forbids it (429). */
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
  const pod = await deps.client.evict(
    t.namespace ?? "",
    t.name!,
    deleteOptions(url, eviction?.deleteOptions),
  );
  return created(t, pod);
}

/**
 * POST pods/<name>/binding (a scheduler assigning the pod): spec.nodeName and PodScheduled=True in
 * one write; answered, as upstream, with a Success Status (201).
 */
export async function handleBinding(
  req: Request,
  url: URL,
  t: Target,
  deps: ApiServerDeps,
): Promise<Response> {
  if (req.method !== "POST") throw methodNotAllowed(req.method, t);
  const warnings: string[] = [];
  const binding = (await readBody(req)) as Binding;
  const pod = await deps.client.bind(t.namespace ?? "", t.name!, binding, writeOptions(url, warnings, req));
  return created(t, pod, warningHeaders(warnings));
}

/** The Success Status (201) upstream answers a pod's eviction or binding with. */
function created(t: Target, pod: KubeObject, headers?: Headers): Response {
  return json(
    { ...successStatus({ name: t.name, kind: "pods", uid: pod.metadata.uid }), code: 201 },
    201,
    headers,
  );
}
