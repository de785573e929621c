import { customKind } from "../crd/custom-kind.ts";
import type { Kind } from "./kind.ts";

export type { Kind };

import { CRD_RESOURCE, type CustomResourceDefinition } from "../crd/types.ts";
import { deprecationWarning, findDeprecated, toStored } from "../deprecated-versions.ts";
import { ApiError, isApiError, type StatusCause } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { apiVersionOf, findByKind, LEGACY_API_VERSIONS, RESOURCES, resourceKey } from "../resources.ts";
import type { WriteOptions } from "../seams/client.ts";
import type { Store } from "../store/store.ts";
import { validateObjectMeta } from "../validation/object-meta.ts";
import type { AdmissionHook, DeletedListener } from "./admission.ts";
import { convertLegacy } from "./legacy.ts";
import { strategyFor } from "./strategies/index.ts";

/** Group-versions the registry converts from that Kubernetes still serves (no deprecation). */
const CURRENT_OTHER_VERSIONS = new Set(["autoscaling/v1"]);

/** Everything the registry's verbs share: the store, the resource table, hooks. */
export interface RegistryContext {
  store: Store;
  admit: readonly AdmissionHook[];
  onDeleted: readonly DeletedListener[];
  onWarning?: (message: string) => void;
  now: () => Date;
  /** How often a write without a resourceVersion is retried after losing a race. */
  maxRetries: number;
  /** Kinds of custom resources by CRD name, with the CRD revision they were built from. */
  customKinds: Map<string, { key: string; kind: Kind }>;
}

const KINDS = new Map<string, Kind>(
  RESOURCES.map((info) => {
    const key = resourceKey(info);
    return [
      key,
      {
        key,
        info,
        strategy: strategyFor(key),
        apiVersion: apiVersionOf(info),
        hasStatus: info.subresources.includes("status"),
      },
    ];
  }),
);

/**
 * The kind of a store key: a built-in one, or the custom resource of the CustomResourceDefinition
 * of that name (`crontabs.stable.example.com`), built from the CRD as stored now.
 */
export async function resolveKind(ctx: RegistryContext, resource: string): Promise<Kind> {
  const builtin = KINDS.get(resource);
  if (builtin) return builtin;
  const crd = resource.includes(".") ? await ctx.store.get(CRD_RESOURCE, "", resource) : undefined;
  const custom = crd && customKindOf(ctx, crd as CustomResourceDefinition);
  if (custom) return custom;
  ctx.customKinds.delete(resource);
  return kindOf(resource);
}

/** One Kind per CRD revision, so unchanged CRDs are not re-read into kinds on every request. */
function customKindOf(ctx: RegistryContext, crd: CustomResourceDefinition): Kind | undefined {
  const cache = ctx.customKinds;
  const key = `${crd.metadata.uid}/${crd.metadata.resourceVersion}`;
  const hit = cache.get(crd.metadata.name!);
  if (hit?.key === key) return hit.kind;
  const kind = customKind(crd);
  if (kind) cache.set(crd.metadata.name!, { key, kind });
  else cache.delete(crd.metadata.name!);
  return kind;
}

export function kindOf(resource: string): Kind {
  const kind = KINDS.get(resource);
  if (!kind) throw new ApiError("NotFound", `the server could not find the requested resource (${resource})`);
  return kind;
}

export function notFound(kind: Kind, name: string): ApiError {
  return ApiError.notFound(kind.info.plural, name, kind.info.group);
}

export function conflict(kind: Kind, name: string): ApiError {
  return ApiError.conflict(kind.info.plural, name, kind.info.group);
}

export function invalid(kind: Kind, name: string, causes: StatusCause[]): ApiError {
  return ApiError.invalid(kind.info.kind, name, causes, kind.info.group);
}

export function isConflict(e: unknown): boolean {
  return isApiError(e, "Conflict");
}

export function warn(ctx: RegistryContext, options: WriteOptions | undefined, message: string): void {
  (options?.onWarning ?? ctx.onWarning)?.(message);
}

/**
 * Checks and fills apiVersion/kind. An old apiVersion (extensions/v1beta1 Deployment) is
 * accepted and rewritten to the served one, with a warning, as older API servers converted it.
 */
export function normalizeTypeMeta(
  ctx: RegistryContext,
  kind: Kind,
  obj: KubeObject,
  options?: WriteOptions,
): void {
  const { info } = kind;
  if (obj.kind && obj.kind !== info.kind) {
    throw new ApiError(
      "BadRequest",
      `the kind in the data (${obj.kind}) does not match the expected kind (${info.kind}) for ${kind.key}`,
    );
  }
  const given = obj.apiVersion;
  const deprecated = given ? findDeprecated(given, info.kind) : undefined;
  if (given && given !== kind.apiVersion && kind.acceptVersion?.(given, obj)) {
    // another served version of a custom resource
  } else if (deprecated && deprecated.storedAs === kind.apiVersion) {
    warn(ctx, options, deprecationWarning(deprecated));
    toStored(deprecated, obj);
  } else if (given && given !== kind.apiVersion) {
    if (LEGACY_API_VERSIONS[given]?.[info.kind] && findByKind(given, info.kind) === info) {
      // autoscaling/v1 is served and current: a conversion, not a deprecation.
      if (!CURRENT_OTHER_VERSIONS.has(given))
        warn(
          ctx,
          options,
          `${given} ${info.kind} is deprecated in v1.9+, unavailable in v1.16+; use ${kind.apiVersion} ${info.kind}`,
        );
      convertLegacy(given, obj);
    } else {
      throw new ApiError(
        "BadRequest",
        `the API version in the data (${given}) does not match the expected API version (${kind.apiVersion})`,
      );
    }
  }
  obj.apiVersion = kind.apiVersion;
  obj.kind = info.kind;
  obj.metadata ??= {};
}

/** Object metadata plus the kind's own validation; Invalid (422) listing every cause. */
export function validateObject(kind: Kind, obj: KubeObject, old?: KubeObject): void {
  const causes = validateObjectMeta(obj.metadata, kind.strategy.nameRule, kind.info.namespaced);
  causes.push(...(kind.strategy.validate?.(obj) ?? []));
  if (old) {
    causes.push(...(kind.strategy.validateUpdate?.(obj, old) ?? []));
    if (old.metadata.deletionTimestamp) {
      const added = (obj.metadata.finalizers ?? []).filter((f) => !old.metadata.finalizers?.includes(f));
      if (added.length) {
        causes.push({
          reason: "FieldValueForbidden",
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
          field: "metadata.finalizers",
        });
      }
    }
  }
  if (causes.length) throw invalid(kind, obj.metadata.name ?? obj.metadata.generateName ?? "", causes);
}
