import { ApiError, isApiError } from "../../core/errors.ts";
import { ApiClient, resourcePath } from "../api-client.ts";
import type { GlobalOptions } from "../context.ts";
import { createDiscovery } from "../discovery.ts";
import { objectRef } from "../object-ref.ts";
import { UsageError } from "../usage-error.ts";
import { resolveTargets } from "./kinds.ts";

/** `minik scale deployment/x --replicas N` through the /scale subresource, as kubectl does. */
export async function scale(targets: string[], opts: GlobalOptions & { replicas?: number }) {
  if (opts.replicas === undefined || opts.replicas === null || `${opts.replicas}` === "") {
    throw new UsageError("--replicas=COUNT is required");
  }
  const replicas = Number(opts.replicas);
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new UsageError(
      `The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0 (got ${opts.replicas})`,
    );
  const api = new ApiClient(opts);
  for (const t of await resolveTargets(targets, createDiscovery(api))) {
    await api.request("PATCH", resourcePath(t.info, opts.namespace ?? "default", t.name, "scale"), {
      contentType: "application/merge-patch+json",
      body: { spec: { replicas } },
    });
    console.log(`${objectRef(t.info, t.name)} scaled`);
  }
}

/** `minik set image deployment/x c=image…`: read, change, write back with the resourceVersion; retried on conflict. */
export async function setImage(target: string, pairs: string[], opts: GlobalOptions) {
  const [t] = await resolveTargets([target]);
  if (!t) throw new UsageError("set image needs KIND/NAME");
  if (!pairs.length) throw new UsageError("set image needs at least one CONTAINER=IMAGE");
  const wanted = Object.fromEntries(
    pairs.map((p) => {
      const i = p.indexOf("=");
      if (i < 1) throw new UsageError(`expected CONTAINER=IMAGE, got "${p}"`);
      return [p.slice(0, i), p.slice(i + 1)];
    }),
  );
  const api = new ApiClient(opts);
  const url = resourcePath(t.info, opts.namespace ?? "default", t.name);
  for (let attempt = 0; ; attempt++) {
    const obj = await api.get<any>(url);
    const podSpec = obj.spec?.template?.spec ?? obj.spec;
    const all = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
    for (const name of Object.keys(wanted)) {
      if (name !== "*" && !all.some((c: any) => c.name === name)) {
        throw new ApiError(
          "NotFound",
          `unable to find container named "${name}" in ${objectRef(t.info, t.name)}`,
        );
      }
    }
    for (const c of all) if (wanted[c.name] ?? wanted["*"]) c.image = wanted[c.name] ?? wanted["*"];
    try {
      await api.request("PUT", url, { body: obj });
      console.log(`${objectRef(t.info, t.name)} image updated`);
      return;
    } catch (e) {
      if (!isApiError(e, "Conflict") || attempt > 4) throw e;
    }
  }
}

export async function autoscale(
  target: string,
  opts: GlobalOptions & { min?: number; max?: number; cpuPercent?: number; name?: string },
) {
  const [t] = await resolveTargets([target]);
  if (!t || (t.info.kind !== "Deployment" && t.info.kind !== "ReplicaSet"))
    throw new UsageError("autoscale works on deployments and replicasets");
  if (!opts.max) throw new UsageError("--max=MAXPODS is required");
  const min = opts.min ? Number(opts.min) : 1;
  if (Number(opts.max) < min) throw new UsageError(`--max=${opts.max} must be at least --min=${min}`);
  const api = new ApiClient(opts);
  const ns = opts.namespace ?? "default";
  const hpa = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: opts.name ?? t.name, namespace: ns },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: t.info.kind, name: t.name },
      minReplicas: min,
      maxReplicas: Number(opts.max),
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: Number(opts.cpuPercent ?? 80) },
          },
        },
      ],
    },
  };
  await api.request("POST", `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`, { body: hpa });
  console.log(`horizontalpodautoscaler.autoscaling/${hpa.metadata.name} autoscaled`);
}
