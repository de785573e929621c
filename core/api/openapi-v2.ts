import { ApiError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { type ExtraResource, groupVersions } from "./discovery.ts";
import { schemaName } from "./openapi.ts";

/**
 * `/openapi/v2` (Swagger 2.0, JSON), from the same component schemas as /openapi/v3: every
 * schema under `definitions`, and per served kind the object path with a GET and a PATCH that
 * declares the `fieldValidation` query parameter, each tagged with its group-version-kind.
 * kubectl falls back to it for validation; Helm and older clients read it.
 */
export function createOpenApiV2(
  extra: ExtraResource[],
  schemas: Record<string, Record<string, unknown>>,
): () => string {
  let built: string | undefined;
  return () => {
    built ??= JSON.stringify(openApiV2Document(extra, schemas));
    return built;
  };
}

export function openApiV2Document(extra: ExtraResource[], schemas: Record<string, Record<string, unknown>>) {
  const definitions = JSON.parse(
    JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/definitions/'),
  ) as Record<string, Record<string, unknown>>;
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions(extra)) {
    const prefix = gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`;
    for (const { info, verbs } of gv.resources) {
      const gvk = { group: gv.group, version: gv.version, kind: info.kind };
      const ref = schemaName(gv.group, gv.version, info.kind);
      const schema = definitions[ref] ? { schema: { $ref: `#/definitions/${ref}` } } : {};
      const path = info.namespaced
        ? `${prefix}/namespaces/{namespace}/${info.plural}/{name}`
        : `${prefix}/${info.plural}/{name}`;
      const id = `${gv.group.split(".")[0]}${gv.version}${info.kind}`;
      const ops: Record<string, unknown> = {
        get: {
          operationId: `read${id}`,
          produces: ["application/json"],
          "x-kubernetes-action": "get",
          "x-kubernetes-group-version-kind": gvk,
          responses: { "200": { description: "OK", ...schema } },
        },
      };
      if (verbs.includes("patch")) {
        ops.patch = {
          operationId: `patch${id}`,
          consumes: [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
          ],
          produces: ["application/json"],
          "x-kubernetes-action": "patch",
          "x-kubernetes-group-version-kind": gvk,
          parameters: [
            { name: "body", in: "body", required: true, schema: { type: "object" } },
            ...["dryRun", "fieldManager", "fieldValidation"].map((name) => ({
              name,
              in: "query",
              type: "string",
              uniqueItems: true,
            })),
            { name: "force", in: "query", type: "boolean", uniqueItems: true },
          ],
          responses: { "200": { description: "OK", ...schema } },
        };
      }
      ops.parameters = [
        { name: "name", in: "path", required: true, type: "string", uniqueItems: true },
        ...(info.namespaced
          ? [{ name: "namespace", in: "path", required: true, type: "string", uniqueItems: true }]
          : []),
      ];
      paths[path] = ops;
    }
  }
  return {
    swagger: "2.0",
    info: { title: "Kubernetes", version: VERSION.gitVersion },
    paths,
    definitions,
  };
}

/**
 * JSON for `application/json`, `*\/*` or no Accept. A client asking only for the protobuf form
 * (client-go's `OpenAPISchema`) gets 406, which it treats as "no OpenAPI v2" rather than
 * misreading JSON as protobuf.
 */
export function openApiV2Response(accept: string | undefined, body: string): Response {
  const types = (accept ?? "").split(",").map((t) => t.split(";")[0]!.trim());
  const json = !accept || types.some((t) => t === "application/json" || t === "*/*" || t === "application/*");
  if (!json)
    throw new ApiError("NotAcceptable", `only application/json is served for /openapi/v2, not ${accept}`);
  return new Response(body, { headers: { "Content-Type": "application/json" } });
}
