/**
 * Dev-time generator (not part of the binary): builds core/validation/openapi/schemas.json, the
 * OpenAPI v3 component schemas of the kinds minik serves, from the model metadata that
 * @kubernetes/client-node (a dev dependency, Apache-2.0, spec release-1.36) ships: field names
 * and types from each model's attributeTypeMap, descriptions and required fields from its .d.ts.
 * Only types reachable from minik's kinds are kept. Run: bun core/validation/openapi/generate.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TYPES } from "../../patch/patch-schema.ts";

const here = dirname(fileURLToPath(import.meta.url));
const models = join(here, "../../../node_modules/@kubernetes/client-node/dist/gen/models");

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}
type Schema = Record<string, unknown>;

/** Root kinds, in order: a type reached first from a root is named in that root's group. */
const ROOTS: Array<[cls: string, group: string, version: string, kind: string]> = [
  ["V1Pod", "", "v1", "Pod"],
  ["V1PodTemplate", "", "v1", "PodTemplate"],
  ["V1Namespace", "", "v1", "Namespace"],
  ["V1Node", "", "v1", "Node"],
  ["V1Service", "", "v1", "Service"],
  ["V1Endpoints", "", "v1", "Endpoints"],
  ["CoreV1Event", "", "v1", "Event"],
  ["V1ConfigMap", "", "v1", "ConfigMap"],
  ["V1Secret", "", "v1", "Secret"],
  ["V1ServiceAccount", "", "v1", "ServiceAccount"],
  ["V1PersistentVolume", "", "v1", "PersistentVolume"],
  ["V1PersistentVolumeClaim", "", "v1", "PersistentVolumeClaim"],
  ["V1LimitRange", "", "v1", "LimitRange"],
  ["V1ResourceQuota", "", "v1", "ResourceQuota"],
  ["V1Deployment", "apps", "v1", "Deployment"],
  ["V1ReplicaSet", "apps", "v1", "ReplicaSet"],
  ["V1StatefulSet", "apps", "v1", "StatefulSet"],
  ["V1DaemonSet", "apps", "v1", "DaemonSet"],
  ["V1ControllerRevision", "apps", "v1", "ControllerRevision"],
  ["V1EndpointSlice", "discovery.k8s.io", "v1", "EndpointSlice"],
  ["V2HorizontalPodAutoscaler", "autoscaling", "v2", "HorizontalPodAutoscaler"],
  ["V1Scale", "autoscaling", "v1", "Scale"],
  ["V1PodDisruptionBudget", "policy", "v1", "PodDisruptionBudget"],
  ["V1Eviction", "policy", "v1", "Eviction"],
  ["V1NetworkPolicy", "networking.k8s.io", "v1", "NetworkPolicy"],
  ["V1StorageClass", "storage.k8s.io", "v1", "StorageClass"],
  ["V1Ingress", "networking.k8s.io", "v1", "Ingress"],
  ["V1IngressClass", "networking.k8s.io", "v1", "IngressClass"],
  ["V1Job", "batch", "v1", "Job"],
  ["V1CronJob", "batch", "v1", "CronJob"],
  ["V1Lease", "coordination.k8s.io", "v1", "Lease"],
  ["V1PriorityClass", "scheduling.k8s.io", "v1", "PriorityClass"],
  ["V1RuntimeClass", "node.k8s.io", "v1", "RuntimeClass"],
  ["EventsV1Event", "events.k8s.io", "v1", "Event"],
  ["V1HorizontalPodAutoscaler", "autoscaling", "v1", "HorizontalPodAutoscaler"],
  ["V1Role", "rbac.authorization.k8s.io", "v1", "Role"],
  ["V1RoleBinding", "rbac.authorization.k8s.io", "v1", "RoleBinding"],
  ["V1ClusterRole", "rbac.authorization.k8s.io", "v1", "ClusterRole"],
  ["V1ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"],
  ["AuthenticationV1TokenRequest", "authentication.k8s.io", "v1", "TokenRequest"],
  ["V1TokenReview", "authentication.k8s.io", "v1", "TokenReview"],
  ["V1SubjectAccessReview", "authorization.k8s.io", "v1", "SubjectAccessReview"],
  ["V1CustomResourceDefinition", "apiextensions.k8s.io", "v1", "CustomResourceDefinition"],
];

const META = new Set([
  "ObjectMeta",
  "ListMeta",
  "LabelSelector",
  "LabelSelectorRequirement",
  "ManagedFieldsEntry",
  "OwnerReference",
  "Condition",
  "Status",
  "StatusDetails",
  "StatusCause",
  "DeleteOptions",
  "Preconditions",
]);

const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

function splitClass(cls: string): { version: string; type: string } {
  const m = /^(?:[A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/.exec(cls);
  if (!m) throw new Error(`cannot parse model name ${cls}`);
  return { version: m[1]!.toLowerCase(), type: m[2]! };
}

function schemaName(cls: string, group: string): string {
  const { version, type } = splitClass(cls);
  if (META.has(type)) return `io.k8s.apimachinery.pkg.apis.meta.${version}.${type}`;
  const short = group === "" ? "core" : group.replace(/\.k8s\.io$/, "").replace(/^rbac\..*/, "rbac");
  return `io.k8s.api.${short}.${version}.${type}`;
}

/** Field descriptions and required-ness from the model's .d.ts. */
function docsOf(cls: string): {
  description?: string;
  fields: Map<string, { description?: string; required: boolean }>;
} {
  const text = readFileSync(join(models, `${cls}.d.ts`), "utf8");
  const clean = (c: string) =>
    c
      .replace(/^\s*\*\s?/gm, "")
      .replace(/\\'/g, "'")
      .replace(/\\"/g, '"')
      .trim();
  const classDoc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export declare class/.exec(text);
  const fields = new Map<string, { description?: string; required: boolean }>();
  const re = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?'([^']+)'(\??):/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    fields.set(m[2]!, { description: m[1] ? clean(m[1]) : undefined, required: m[3] !== "?" });
  }
  return { description: classDoc ? clean(classDoc[1]!) : undefined, fields };
}

const schemas: Record<string, Schema> = {};
const named = new Map<string, string>();
const queue: Array<[string, string]> = [];

function refTo(cls: string, group: string): string {
  if (!named.has(cls)) {
    named.set(cls, schemaName(cls, group));
    queue.push([cls, group]);
  }
  return `#/components/schemas/${named.get(cls)}`;
}

function typeSchema(type: string, format: string, group: string): Schema {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return { type: "array", items: typeSchema(array[1]!, "", group) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return { type: "object", additionalProperties: typeSchema(map[1]!, "", group) };
  switch (type) {
    case "string":
      return { type: "string", ...(format && format !== "" ? { format } : {}) };
    case "number":
      return format.startsWith("int")
        ? { type: "integer", format }
        : { type: "number", format: format || "double" };
    case "boolean":
      return { type: "boolean" };
    case "Date":
      return { type: "string", format: "date-time" };
    case "IntOrString":
      return { allOf: [{ $ref: `#/components/schemas/${INT_OR_STRING}` }] };
    case "any":
    case "object":
      return { type: "object", "x-kubernetes-preserve-unknown-fields": true };
    default:
      // Aliases client-node has no model for (V1MicroTime) are RFC 3339 strings.
      if (!existsSync(join(models, `${type}.js`))) return { type: "string", format: "date-time" };
      return { allOf: [{ $ref: refTo(type, group) }] };
  }
}

async function build(cls: string, group: string): Promise<void> {
  const mod = (await import(join(models, `${cls}.js`))) as Record<string, { attributeTypeMap: Attribute[] }>;
  const attrs = mod[cls]!.attributeTypeMap;
  const docs = docsOf(cls);
  const { type } = splitClass(cls);
  const patchTable =
    TYPES[type] ??
    (["DeploymentSpec", "ReplicaSetSpec", "JobSpec"].includes(type) ? TYPES.WorkloadSpec : undefined);
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const a of attrs) {
    const doc = docs.fields.get(a.name);
    const s: Schema = {
      ...(doc?.description ? { description: doc.description } : {}),
      ...typeSchema(a.type, a.format, group),
    };
    const fp = patchTable?.[a.baseName];
    if (fp?.mergeKey)
      Object.assign(s, {
        "x-kubernetes-patch-merge-key": fp.mergeKey,
        "x-kubernetes-patch-strategy": "merge",
      });
    else if (fp?.primitiveMerge) Object.assign(s, { "x-kubernetes-patch-strategy": "merge" });
    if (
      (type === "PodSpec" && a.baseName === "volumes") ||
      (type === "DeploymentSpec" && a.baseName === "strategy")
    ) {
      s["x-kubernetes-patch-strategy"] = a.baseName === "volumes" ? "merge,retainKeys" : "retainKeys";
    }
    properties[a.baseName] = s;
    if (doc?.required) required.push(a.baseName);
  }
  const root = ROOTS.find((r) => r[0] === cls);
  schemas[named.get(cls)!] = {
    ...(docs.description ? { description: docs.description } : {}),
    type: "object",
    properties,
    ...(required.length ? { required } : {}),
    ...(root
      ? { "x-kubernetes-group-version-kind": [{ group: root[1], version: root[2], kind: root[3] }] }
      : {}),
  };
}

for (const [cls, group] of ROOTS) refTo(cls, group);
for (let next = queue.shift(); next; next = queue.shift()) await build(next[0], next[1]);
schemas[INT_OR_STRING] = {
  description: "IntOrString is a type that can hold an int32 or a string.",
  type: "string",
  format: "int-or-string",
};
const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(here, "schemas.json"), `${JSON.stringify(sorted)}\n`);
console.log(`wrote ${Object.keys(sorted).length} schemas`);
