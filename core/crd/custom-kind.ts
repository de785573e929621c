import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Kind } from "../registry/kind.ts";
import type { Strategy } from "../registry/strategy.ts";
import type { ResourceInfo } from "../resources.ts";
import { dns1123Subdomain } from "../validation/names.ts";
import { customScale } from "./custom-scale.ts";
import { applyDefaults, prune } from "./prune-defaults.ts";
import { validateValue } from "./schema-values.ts";
import { type CrdVersion, type CustomResourceDefinition, type JsonSchema, storageVersion } from "./types.ts";

/** The ResourceInfo of one version of a CRD's custom resource (what discovery and routes need). */
export function customResourceInfo(crd: CustomResourceDefinition, version: CrdVersion): ResourceInfo {
  const { names, group, scope } = crd.spec;
  const subresources = [
    ...(version.subresources?.status ? ["status"] : []),
    ...(version.subresources?.scale ? ["scale"] : []),
  ];
  return {
    group,
    version: version.name,
    kind: names.kind,
    listKind: names.listKind || `${names.kind}List`,
    plural: names.plural,
    singular: names.singular || names.kind.toLowerCase(),
    namespaced: scope !== "Cluster",
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    subresources,
  };
}

/**
 * How the registry handles the objects of a CRD: stored in its storage version; other served
 * versions accepted and relabelled (conversion strategy None); on every write, fields the storage
 * schema does not know pruned, its defaults applied, the object validated against it (422 with
 * the field); status kept apart when the status subresource is on. Undefined when the CRD has no
 * storage version.
 */
export function customKind(crd: CustomResourceDefinition): Kind | undefined {
  const stored = storageVersion(crd);
  if (!stored || !crd.spec?.names?.plural) return undefined;
  const info = customResourceInfo(crd, stored);
  const apiVersion = `${crd.spec.group}/${stored.name}`;
  const schema = stored.schema?.openAPIV3Schema ?? {
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
  };
  const hasStatus = !!stored.subresources?.status;
  const terminating = !!crd.metadata.deletionTimestamp;
  const served = new Set(crd.spec.versions.filter((v) => v.served).map((v) => `${crd.spec.group}/${v.name}`));
  const strategy: Strategy = {
    nameRule: dns1123Subdomain,
    hasGeneration: true,
    prepareForCreate(obj) {
      if (terminating)
        throw new ApiError(
          "MethodNotAllowed",
          "create not allowed while custom resource definition is terminating",
        );
      if (hasStatus) delete obj.status;
    },
    defaults(obj) {
      prune(obj, schema);
      applyDefaults(obj, schema);
    },
    validate(obj) {
      const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
      return validateValue(rest, withoutTypeMeta(schema), "");
    },
    validateStatus(obj) {
      const statusSchema = schema.properties?.status;
      if (!statusSchema || obj.status === undefined) return [];
      obj.status = structuredClone(obj.status);
      prune(obj.status, statusSchema, false, "status");
      applyDefaults(obj.status, statusSchema);
      return validateValue(obj.status, statusSchema, "status");
    },
  };
  const scale = stored.subresources?.scale;
  return {
    key: `${info.plural}.${info.group}`,
    info,
    strategy,
    apiVersion,
    hasStatus,
    acceptVersion(given, obj) {
      if (!served.has(given)) return false;
      obj.apiVersion = apiVersion;
      return true;
    },
    unknownFields(obj: KubeObject) {
      const copy = hasStatus ? { ...obj, status: undefined } : obj;
      const found = prune(copy, schema);
      if (hasStatus && obj.status !== undefined) copy.status = obj.status;
      return found;
    },
    ...(scale ? { scale: customScale(scale) } : {}),
  };
}

/** The root's own rules, without apiVersion/kind/metadata (which the API server owns). */
function withoutTypeMeta(schema: JsonSchema): JsonSchema {
  const { apiVersion: _a, kind: _k, metadata: _m, ...properties } = schema.properties ?? {};
  return {
    ...schema,
    properties,
    required: schema.required?.filter((r) => !["apiVersion", "kind", "metadata"].includes(r)),
  };
}
