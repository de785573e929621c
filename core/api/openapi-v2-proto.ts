import { ProtoWriter } from "./protobuf/writer.ts";

/**
 * The /openapi/v2 document in the protobuf form client-go asks for
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's openapi.v2.Document):
 * what kubectl's validation fallback, `kubectl explain --output=plaintext-openapiv2` and Helm read.
 * Encodes the JSON document built by openapi-v2.ts; vendor extensions and default/enum values
 * travel as YAML (JSON is YAML) in `Any.yaml`, as gnostic does.
 */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/** What kube-openapi answers it with: '@' is not a valid media-type character, so a dot. */
export const OPENAPI_V2_PROTOBUF_RESPONSE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export function encodeOpenApiV2(doc: Json): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, doc.swagger as string);
  const info = (doc.info ?? {}) as Json;
  w.message(2, (i) => i.string(1, info.title as string).string(2, info.version as string));
  w.message(8, (paths) => {
    for (const [name, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>))
      paths.message(2, (np) => np.string(1, name).message(2, (pi) => pathItem(pi, item)));
  });
  w.message(9, (defs) => {
    for (const [name, schema] of Object.entries((doc.definitions ?? {}) as Record<string, Json>))
      defs.message(1, (ns) => ns.string(1, name).message(2, (s) => encodeSchema(s, schema)));
  });
  return w.finish();
}

const OPERATIONS: Record<string, number> = {
  get: 2,
  put: 3,
  post: 4,
  delete: 5,
  options: 6,
  head: 7,
  patch: 8,
};

function pathItem(w: ProtoWriter, item: Json): void {
  for (const [verb, field] of Object.entries(OPERATIONS)) {
    const op = item[verb];
    if (isMap(op)) w.message(field, (o) => operation(o, op));
  }
  for (const p of (item.parameters ?? []) as Json[]) w.message(9, (pi) => parameter(pi, p));
}

function operation(w: ProtoWriter, op: Json): void {
  w.string(5, op.operationId as string);
  w.strings(6, op.produces as string[]);
  w.strings(7, op.consumes as string[]);
  for (const p of (op.parameters ?? []) as Json[]) w.message(8, (pi) => parameter(pi, p));
  w.message(9, (responses) => {
    for (const [code, r] of Object.entries((op.responses ?? {}) as Record<string, Json>))
      responses.message(1, (nr) =>
        nr.string(1, code).message(2, (rv) =>
          rv.message(1, (resp) => {
            resp.string(1, r.description as string);
            if (isMap(r.schema))
              resp.message(2, (si) => si.message(1, (s) => encodeSchema(s, r.schema as Json)));
          }),
        ),
      );
  });
  vendorExtensions(w, 13, op);
}

/** ParametersItem { Parameter { BodyParameter | NonBodyParameter { Query | Path sub-schema } } } */
function parameter(w: ProtoWriter, p: Json): void {
  w.message(1, (param) => {
    if (p.in === "body") {
      param.message(1, (b) => {
        b.string(2, p.name as string)
          .string(3, "body")
          .bool(4, p.required as boolean);
        if (isMap(p.schema)) b.message(5, (s) => encodeSchema(s, p.schema as Json));
      });
      return;
    }
    // NonBodyParameter: the path and query sub-schemas differ only in field numbers
    const sub = p.in === "path" ? { field: 4, type: 5, unique: 19 } : { field: 3, type: 6, unique: 20 };
    param.message(2, (nb) =>
      nb.message(sub.field, (s) =>
        s
          .bool(1, p.required as boolean)
          .string(2, p.in === "path" ? "path" : "query")
          .string(4, p.name as string)
          .string(sub.type, p.type as string)
          .bool(sub.unique, p.uniqueItems as boolean),
      ),
    );
  });
}

function anyValue(w: ProtoWriter, field: number, value: unknown): void {
  w.message(field, (a) => a.string(2, `${JSON.stringify(value)}\n`));
}

function vendorExtensions(w: ProtoWriter, field: number, obj: Json): void {
  for (const [k, v] of Object.entries(obj))
    if (k.startsWith("x-"))
      w.message(field, (na) => na.string(1, k).message(2, (a) => a.string(2, `${JSON.stringify(v)}\n`)));
}

export function encodeSchema(w: ProtoWriter, s: Json): void {
  w.string(1, s.$ref as string)
    .string(2, s.format as string)
    .string(3, s.title as string)
    .string(4, s.description as string);
  if (s.default !== undefined) anyValue(w, 5, s.default);
  w.double(6, s.multipleOf as number)
    .double(7, s.maximum as number)
    .bool(8, s.exclusiveMaximum as boolean)
    .double(9, s.minimum as number)
    .bool(10, s.exclusiveMinimum as boolean)
    .int64(11, s.maxLength as number)
    .int64(12, s.minLength as number)
    .string(13, s.pattern as string)
    .int64(14, s.maxItems as number)
    .int64(15, s.minItems as number)
    .bool(16, s.uniqueItems as boolean)
    .int64(17, s.maxProperties as number)
    .int64(18, s.minProperties as number)
    .strings(19, s.required as string[]);
  for (const e of (s.enum ?? []) as unknown[]) anyValue(w, 20, e);
  const ap = s.additionalProperties;
  if (typeof ap === "boolean") w.message(21, (a) => a.boolPresent(2, ap));
  else if (isMap(ap)) w.message(21, (a) => a.message(1, (x) => encodeSchema(x, ap)));
  if (typeof s.type === "string") w.message(22, (t) => t.strings(1, [s.type as string]));
  if (isMap(s.items)) w.message(23, (i) => i.message(1, (x) => encodeSchema(x, s.items as Json)));
  for (const sub of (s.allOf ?? []) as Json[]) w.message(24, (x) => encodeSchema(x, sub));
  if (isMap(s.properties))
    w.message(25, (props) => {
      for (const [name, p] of Object.entries(s.properties as Record<string, Json>))
        props.message(1, (ns) => ns.string(1, name).message(2, (x) => encodeSchema(x, p)));
    });
  vendorExtensions(w, 31, s);
}
