import type { KubeObject } from "../object.ts";
import { labelSelectorToString } from "../selectors.ts";

/** `.spec.replicas` → ["spec", "replicas"] (the simple JSON paths CRD scale subresources use). */
function segments(path: string): string[] {
  return path.replace(/^\./, "").split(".").filter(Boolean);
}

function read(obj: unknown, path: string): unknown {
  let v = obj;
  for (const s of segments(path))
    v = v && typeof v === "object" ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/**
 * The autoscaling/v1 Scale of a custom resource, read and written through the CRD's
 * specReplicasPath, statusReplicasPath and labelSelectorPath.
 */
export function customScale(paths: {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}) {
  return {
    toScale(obj: KubeObject): KubeObject {
      const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
      const selector = paths.labelSelectorPath ? read(obj, paths.labelSelectorPath) : undefined;
      return {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
        spec: { replicas: (read(obj, paths.specReplicasPath) as number | undefined) ?? 0 },
        status: {
          replicas: (read(obj, paths.statusReplicasPath) as number | undefined) ?? 0,
          ...(typeof selector === "string"
            ? { selector }
            : selector && typeof selector === "object"
              ? { selector: labelSelectorToString(selector as never) }
              : {}),
        },
      };
    },
    withReplicas(obj: KubeObject, replicas: number): KubeObject {
      const next = structuredClone(obj);
      const keys = segments(paths.specReplicasPath);
      let at = next as Record<string, unknown>;
      for (const k of keys.slice(0, -1)) {
        if (!at[k] || typeof at[k] !== "object") at[k] = {};
        at = at[k] as Record<string, unknown>;
      }
      at[keys.at(-1)!] = replicas;
      return next;
    },
  };
}
