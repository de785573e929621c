import { stringify } from "yaml";
import { ApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import { encodeProtobufObject, protobufGap } from "./protobuf/encode.ts";

/**
 * What the client's Accept asks of a resource response, negotiated as kube-apiserver does: the
 * first clause the server can serve wins; `as=Table|PartialObjectMetadata|PartialObjectMetadataList`
 * with `g=meta.k8s.io` and `v=v1|v1beta1` transforms the object. Clauses are tried by q-value
 * (highest first, then the more specific), as goautoneg orders them. Protobuf is answered for the
 * kinds whose messages are described (protobuf/messages.ts); for the others, or an object with a
 * field the description lacks, the next servable clause (JSON/YAML) is used, or 406 when none is.
 */
export type TransformKind = "Table" | "PartialObjectMetadata" | "PartialObjectMetadataList";

export interface Representation {
  format: "json" | "yaml" | "protobuf";
  as?: { kind: TransformKind; version: "v1" | "v1beta1" };
  /** For protobuf: what to answer when the object cannot be encoded in protobuf. */
  fallback?: Representation;
}

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
export const PROTOBUF_WATCH = `${PROTOBUF};stream=watch`;

const TRANSFORMS = new Set<string>(["Table", "PartialObjectMetadata", "PartialObjectMetadataList"]);
const ACCEPTED = "application/json, application/yaml, application/vnd.kubernetes.protobuf";

export function negotiate(accept: string | null | undefined, watch = false): Representation {
  if (!accept?.trim()) return { format: "json" };
  const reps = byPreference(accept)
    .map((clause) => servable(clause, watch))
    .filter((r): r is Representation => r !== undefined);
  const first = reps[0];
  if (first?.format === "protobuf") {
    const fallback = reps.find((r) => r.format !== "protobuf");
    return fallback ? { ...first, fallback } : first;
  }
  if (first) return first;
  throw new ApiError(
    "NotAcceptable",
    `only the following media types are accepted: ${watch ? `application/json, application/json;stream=watch, ${PROTOBUF}, ${PROTOBUF_WATCH}` : ACCEPTED}`,
  );
}

interface Clause {
  media: string;
  params: Map<string, string>;
  q: number;
}

/** Accept clauses, q=0 dropped, highest q first, then type/subtype before type/* before *\/*. */
function byPreference(accept: string): Clause[] {
  const specificity = (media: string) => (media === "*/*" ? 0 : media.endsWith("/*") ? 1 : 2);
  return accept
    .split(",")
    .map(parseClause)
    .filter((c) => c.q > 0)
    .sort((a, b) => b.q - a.q || specificity(b.media) - specificity(a.media));
}

function parseClause(clause: string): Clause {
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
  const q = params.has("q") ? Number(params.get("q")) : 1;
  return { media: type.toLowerCase(), params, q: Number.isNaN(q) ? 0 : q };
}

function servable({ media, params }: Clause, watch: boolean): Representation | undefined {
  const format =
    media === "application/json" || media === "*/*" || media === "application/*"
      ? "json"
      : media === "application/yaml" && !watch
        ? "yaml"
        : media === PROTOBUF && protobufTransform(params)
          ? "protobuf"
          : undefined;
  if (!format) return undefined;
  const as = params.get("as");
  if (as === undefined) return { format };
  const version = params.get("v");
  if (!TRANSFORMS.has(as) || params.get("g") !== "meta.k8s.io" || (version !== "v1" && version !== "v1beta1"))
    return undefined;
  return { format, as: { kind: as as TransformKind, version } };
}

/** Protobuf answers plain objects and meta.k8s.io/v1 PartialObjectMetadata(List) (client-go's metadata client); no Table. */
function protobufTransform(params: Map<string, string>): boolean {
  const as = params.get("as");
  return as === undefined || (as.startsWith("PartialObjectMetadata") && params.get("v") === "v1");
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
  if (rep.format === "protobuf") {
    const bytes = encodeProtobufObject(body);
    if (!bytes && rep.fallback) return encoded(rep.fallback, body, code, headers);
    if (!bytes) throw notInProtobuf(body);
    h.set("Content-Type", PROTOBUF);
    return new Response(bytes, { status: code, headers: h });
  }
  if (rep.format === "yaml") {
    h.set("Content-Type", "application/yaml");
    // sigs.k8s.io/yaml goes through a map, so upstream's YAML has its keys sorted.
    return new Response(stringify(body, { sortMapEntries: true }), { status: code, headers: h });
  }
  h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status: code, headers: h });
}

/** 406 for a protobuf-only Accept when the kind (or one of its fields) has no protobuf description. */
export function notInProtobuf(body: unknown): ApiError {
  const o = body as { kind?: string; apiVersion?: string; metadata?: unknown };
  // an object of a described kind: name the field its description lacks
  const gap = o.metadata ? protobufGap(body) : undefined;
  return new ApiError(
    "NotAcceptable",
    `${o.kind ?? "this object"} (${o.apiVersion ?? "?"}) cannot be encoded in protobuf by minik${gap ? ` (${gap})` : ""}: accept application/json`,
  );
}

/**
 * For versions served by converting the stored version's JSON answer (extensions/v1beta1,
 * events.k8s.io/v1, autoscaling/v1): protobuf is not offered, so its clauses are dropped from
 * Accept, and a protobuf-only Accept is 406 before anything runs.
 */
export function withoutProtobuf(req: Request, served: { kind: string; apiVersion: string }): Request {
  const accept = req.headers.get("Accept");
  let rep: Representation;
  try {
    rep = negotiate(accept);
  } catch {
    return req;
  }
  if (rep.format !== "protobuf") return req;
  if (!rep.fallback) throw notInProtobuf(served);
  const rest = accept!
    .split(",")
    .filter((clause) => parseClause(clause).media !== PROTOBUF)
    .join(",");
  const headers = new Headers(req.headers);
  headers.set("Accept", rest);
  return new Request(req, { headers });
}
