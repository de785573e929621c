import { ApiError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { type ExtraResource, groupVersions } from "./discovery.ts";
import { schemaName } from "./openapi.ts";
import { encodeOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_RESPONSE } from "./openapi-v2-proto.ts";

/**
 * `/openapi/v2` (Swagger 2.0, JSON), from the same component schemas as /openapi/v3: every
 * schema under `definitions`, and per served kind the object path with a GET and a PATCH that
 * declares the `fieldValidation` query parameter, each tagged with its group-version-kind.
 * kubectl falls back to it for validation; Helm and older clients read it.
 */
export function createOpenApiV2(
  extra: ExtraResource[],
  schemas: Record<string, Record<string, unknown>>,
): OpenApiV2 {
  let doc: ReturnType<typeof openApiV2Document> | undefined;
  let json: string | undefined;
  let protobuf: Uint8Array | undefined;
  const build = () => {
    doc ??= openApiV2Document(extra, schemas);
    return doc;
  };
  return {
    json() {
      json ??= JSON.stringify(build());
      return json;
    },
    protobuf() {
      protobuf ??= encodeOpenApiV2(build());
      return protobuf;
    },
  };
}

/** The document, built on first use, as JSON or as gnostic protobuf. */
export interface OpenApiV2 {
  json(): string;
  protobuf(): Uint8Array;
}

export function openApiV2Document(extra: ExtraResource[], schemas: Record<string, Record<string, unknown>>) {
  const definitions = JSON.parse(
    JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/definitions/'),
    // Swagger 2.0 style: a $ref with its description beside it, not wrapped in a one-element allOf
    // (v3's way, which kubectl's v2 reader does not follow)
    (_key, value) => {
      const allOf = value?.allOf;
      if (Array.isArray(allOf) && allOf.length === 1 && allOf[0]?.$ref) {
        const { allOf: _, ...rest } = value;
        return { ...rest, $ref: allOf[0].$ref };
      }
      return value;
    },
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
 * Protobuf when the client asks for it before JSON (client-go's `OpenAPISchema` asks only for
 * it), JSON otherwise.
 */
export function openApiV2Response(accept: string | undefined, doc: OpenApiV2): Response {
  const types = (accept ?? "").split(",").map((t) => t.split(";")[0]!.trim());
  const proto = types.indexOf(OPENAPI_V2_PROTOBUF);
  const json = types.findIndex((t) => t === "application/json" || t === "*/*" || t === "application/*");
  if (proto >= 0 && (json < 0 || proto < json))
    return new Response(doc.protobuf() as Uint8Array<ArrayBuffer>, {
      headers: { "Content-Type": OPENAPI_V2_PROTOBUF_RESPONSE },
    });
  if (accept && json < 0)
    throw new ApiError(
      "NotAcceptable",
      `only application/json and ${OPENAPI_V2_PROTOBUF} are served for /openapi/v2`,
    );
  return new Response(doc.json(), { headers: { "Content-Type": "application/json" } });
}
