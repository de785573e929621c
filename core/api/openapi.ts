import { OPENAPI_SCHEMAS } from "../validation/openapi/schemas.ts";
import { VERSION } from "../version.ts";
import { type ExtraResource, groupVersions } from "./discovery.ts";

/**
 * OpenAPI v3 as kubectl needs it: an index of group-versions, and per group-version a document
 * with one PATCH operation per kind that declares the `fieldValidation` query parameter. That
 * declaration makes kubectl hand validation to the server instead of downloading /openapi/v2.
 * Strategic merge patch is deliberately left out of requestBody, so `kubectl apply` computes
 * its patches from the Go types compiled into it (see the wire reference §3).
 *
 * `schemas` are the component schemas keyed like `io.k8s.api.apps.v1.Deployment` (by default the
 * registry's, core/validation/openapi), which `kubectl explain` reads.
 */
export interface OpenApiDocs {
  index(): Promise<unknown>;
  /** undefined when the group-version is not served. */
  document(path: string): Promise<{ body: string; hash: string } | undefined>;
}

export function createOpenApi(
  extra: ExtraResource[],
  schemas: Record<string, Record<string, unknown>> = OPENAPI_SCHEMAS,
): OpenApiDocs {
  let built: Promise<Map<string, { body: string; hash: string }>> | undefined;
  const build = async () => {
    const docs = new Map<string, { body: string; hash: string }>();
    for (const gv of groupVersions(extra)) {
      const path = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
      const body = JSON.stringify(document(gv.group, gv.version, gv.resources, schemas));
      docs.set(path, { body, hash: await hashOf(body) });
    }
    return docs;
  };
  return {
    async index() {
      built ??= build();
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const [path, doc] of await built)
        paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${doc.hash}` };
      return { paths };
    },
    async document(path) {
      built ??= build();
      return (await built).get(path);
    },
  };
}

function document(
  group: string,
  version: string,
  resources: ExtraResource[],
  schemas: Record<string, Record<string, unknown>>,
) {
  const paths: Record<string, unknown> = {};
  const components: Record<string, unknown> = schemas;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const { info, verbs } of resources) {
    const gvk = { group, version, kind: info.kind };
    const item = info.namespaced
      ? `${prefix}/namespaces/{namespace}/${info.plural}/{name}`
      : `${prefix}/${info.plural}/{name}`;
    const ref = schemaName(group, version, info.kind);
    const schema = components[ref];
    const responses = { "200": { description: "OK", ...(schema ? jsonContent(ref) : {}) } };
    const operations: Record<string, unknown> = {
      get: { "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk, responses },
    };
    if (verbs.includes("patch")) {
      operations.patch = {
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
        parameters: ["fieldValidation", "fieldManager", "dryRun", "force"].map((name) => ({
          name,
          in: "query",
          schema: { type: name === "force" ? "boolean" : "string" },
        })),
        requestBody: {
          content: {
            "application/json-patch+json": { schema: {} },
            "application/merge-patch+json": { schema: {} },
            "application/apply-patch+yaml": { schema: {} },
          },
        },
        responses,
      };
    }
    paths[item] = operations;
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: VERSION.gitVersion },
    paths,
    components: { schemas: reachable(components, JSON.stringify(paths)) },
  };
}

/** Only the schemas this document's paths lead to, following $refs (one document per group-version). */
function reachable(all: Record<string, unknown>, roots: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const pending = [...roots.matchAll(/#\/components\/schemas\/([\w.-]+)/g)].map((m) => m[1]!);
  while (pending.length) {
    const name = pending.pop()!;
    if (name in out || !(name in all)) continue;
    out[name] = all[name];
    for (const m of JSON.stringify(all[name]).matchAll(/#\/components\/schemas\/([\w.-]+)/g))
      pending.push(m[1]!);
  }
  return out;
}

function jsonContent(ref: string) {
  return { content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } };
}

/** The Kubernetes schema name of a kind: `io.k8s.api.apps.v1.Deployment`, `io.k8s.api.core.v1.Pod`. */
export function schemaName(group: string, version: string, kind: string): string {
  const pkg = group === "" ? "core" : group.replace(/\.k8s\.io$/, "").split(".")[0];
  if (group === "metrics.k8s.io") return `io.k8s.metrics.pkg.apis.metrics.${version}.${kind}`;
  // custom resources (CRD groups are domains): reversed, as kube-apiserver names them
  if (group.includes(".") && !group.endsWith(".k8s.io"))
    return `${group.split(".").reverse().join(".")}.${version}.${kind}`;
  return `io.k8s.api.${pkg}.${version}.${kind}`;
}

async function hashOf(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
}
