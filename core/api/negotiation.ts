import { stringify } from "yaml";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";

/**
 * What the client's Accept asks of a resource response, negotiated as kube-apiserver does: the
 * first clause the server can serve wins; `as=Table|PartialObjectMetadata|PartialObjectMetadataList`
 * with `g=meta.k8s.io` and `v=v1|v1beta1` transforms the object; protobuf is never answered
 * (minik's kinds have no protobuf encoding), so a protobuf clause is passed over, and an Accept
 * with nothing servable is 406, as upstream answers for a type without protobuf.
 */
export type TransformKind = "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList";

export interface Representation {
  format: "json" | "yaml";
  as?: { kind: TransformKind; version: "v1" | "v1beta1" };
}

const TRANSFORMS = new Set<string>(["Table", "PartialObjectMetadata", "PartialObjectMetadataList"]);
const ACCEPTED = "application/json, application/yaml";

export function negotiate(accept: string | null | undefined, watch = false): Representation {
  if (!accept?.trim()) return { format: "json" };
  for (const clause of accept.split(",")) {
    const rep = servable(clause, watch);
    if (rep) return rep;
  }
  throw new ApiError(
    "NotAcceptable",
    `only the following media types are accepted: ${watch ? "application/json, application/json;stream=watch" : ACCEPTED}`,
  );
}

function servable(clause: string, watch: boolean): Representation | undefined {
  const [type = "", ...rawParams] = clause.split(";").map((p) => p.trim());
  const params = new Map(
    rawParams.map((p) => {
      const eq = p.indexOf("=");
      return [
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ""),
      ] as const;
    }),
  );
  if (params.get("q") !== undefined && Number(params.get("q")) === 0) return undefined;
  const media = type.toLowerCase();
  const format =
    media === "application/json" || media === "*/*" || media === "application/*"
      ? "json"
      : media === "application/yaml" && !watch
        ? "yaml"
        : undefined;
  if (!format) return undefined;
  const as = params.get("as");
  if (as === undefined) return { format };
  const version = params.get("v");
  if (!TRANSFORMS.has(as) || params.get("g") !== "meta.k8s.io" || (version !== "v1" && version !== "v1beta1"))
    return undefined;
  return { format, as: { kind: as as TransformKind, version } };
}

/** 406 when the transform does not fit what is answered (one object vs a list), as upstream words it. */
export function checkTransform(rep: Representation, answer: "object" | "list"): void {
  const kind = rep.as?.kind;
  if (answer === "list" && kind === "PartialObjectMetadata")
    throw new ApiError(
      "NotAcceptable",
      "you requested PartialObjectMetadata, but the requested object is a list: ask for as=PartialObjectMetadataList",
    );
  if (answer === "object" && kind === "PartialObjectMetadataList")
    throw new ApiError(
      "NotAcceptable",
      "you requested PartialObjectMetadataList, but the requested object is not a list: ask for as=PartialObjectMetadata",
    );
}

export function partialObjectMetadata(obj: KubeObject, version: string): KubeObject {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

/** The body in the negotiated format; extra headers (Warning, …) kept. */
export function encoded(rep: Representation, body: unknown, code = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (rep.format === "yaml") {
    h.set("Content-Type", "application/yaml");
    // sigs.k8s.io/yaml goes through a map, so upstream's YAML has its keys sorted.
    return new Response(stringify(body, { sortMapEntries: true }), { status: code, headers: h });
  }
  h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status: code, headers: h });
}
