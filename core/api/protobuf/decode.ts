import { ApiError } from "../../errors.ts";
import { fieldsOf, hasMessage, type MessageField, messageName } from "./fields.ts";
import { readFields, readPackedVarints, type WireValue } from "./wire.ts";

/**
 * Decodes the `application/vnd.kubernetes.protobuf` bodies kubectl's typed clients send
 * (`kubectl create deployment|service|configmap|secret|namespace|job|…`): the "k8s\0" magic, a
 * runtime.Unknown envelope, then the object, converted to the JSON the REST handlers take.
 *
 * Go writes non-pointer fields even when empty, so empty strings, zeros and false are dropped
 * (as `omitempty` would), except for pointer fields whose explicit zero means something.
 */
const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const POINTER_SCALARS = new Set([
  "replicas",
  "revisionHistoryLimit",
  "progressDeadlineSeconds",
  "terminationGracePeriodSeconds",
  "activeDeadlineSeconds",
  "backoffLimit",
  "parallelism",
  "completions",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
  "ttlSecondsAfterFinished",
  "startingDeadlineSeconds",
  "immutable",
  "automountServiceAccountToken",
  "suspend",
  "minReplicas",
  "targetCPUUtilizationPercentage",
]);

/** Go structs embedded with `json:",inline"`: a field of their own in protobuf, merged in JSON. */
export const INLINE = new Set([
  "ingressRuleValue",
  "volumeSource",
  "localObjectReference",
  "handler",
  "volumeStatus",
]);

export function decodeProtobufObject(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 4 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ApiError("BadRequest", 'the protobuf body does not start with the Kubernetes "k8s\\0" magic');
  }
  try {
    const envelope = decodeMessage("runtime.Unknown", bytes.subarray(4)) as {
      typeMeta?: { apiVersion?: string; kind?: string };
      raw?: string;
    };
    const apiVersion = envelope.typeMeta?.apiVersion ?? "";
    const kind = envelope.typeMeta?.kind ?? "";
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const message = messageName(group!, version!, kind);
    if (!hasMessage(message)) {
      throw new ApiError(
        "UnsupportedMediaType",
        `protobuf bodies for ${kind} (${apiVersion}) are not supported: send JSON or YAML`,
      );
    }
    const raw = Uint8Array.from(atob(envelope.raw ?? ""), (c) => c.charCodeAt(0));
    const obj = decodeMessage(message, raw) as Record<string, unknown>;
    return { apiVersion, kind, ...obj };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError("BadRequest", `the protobuf body could not be decoded: ${(e as Error).message}`);
  }
}

function decodeMessage(message: string, bytes: Uint8Array): unknown {
  const fields = readFields(bytes);
  switch (message) {
    case "meta.v1.Time":
    case "meta.v1.MicroTime": {
      const seconds = Number(fields.get(1)?.[0]?.value ?? 0n);
      if (!seconds) return undefined;
      const iso = new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
      if (message === "meta.v1.Time") return iso;
      // MicroTime keeps microseconds, as metav1.MicroTime's RFC3339Micro.
      const nanos = Number(fields.get(2)?.[0]?.value ?? 0n);
      return iso.replace(/Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`);
    }
    case "util.intstr.IntOrString": {
      const type = Number(fields.get(1)?.[0]?.value ?? 0n);
      if (type === 1) return text(fields.get(3)?.[0]);
      return Number(BigInt.asIntN(32, (fields.get(2)?.[0]?.value as bigint | undefined) ?? 0n));
    }
    case "api.resource.Quantity":
      return text(fields.get(1)?.[0]);
    case "runtime.RawExtension":
    case "meta.v1.FieldsV1": {
      const raw = fields.get(1)?.[0];
      return raw ? JSON.parse(text(raw)) : undefined;
    }
  }
  const out: Record<string, unknown> = {};
  const t = fieldsOf(message);
  for (const [number, values] of fields) {
    const field = t.get(number);
    if (!field) continue;
    if (field.label === "m") {
      const map: Record<string, unknown> = {};
      for (const entry of values) {
        const kv = readFields(entry.value as Uint8Array);
        const key = text(kv.get(1)?.[0]);
        const value = kv.get(2)?.[0];
        map[key] = value ? scalarOrMessage(field.type, value) : field.type === "string" ? "" : undefined;
      }
      out[field.name] = map;
    } else if (field.label === "r") {
      const list: unknown[] = [];
      for (const v of values) {
        if (v.wireType === 2 && isVarintType(field.type))
          list.push(...readPackedVarints(v.value).map((n) => toNumber(field.type, n)));
        else list.push(scalarOrMessage(field.type, v));
      }
      out[field.name] = list;
    } else {
      const value = scalarOrMessage(field.type, values[values.length - 1]!);
      if (INLINE.has(field.name)) Object.assign(out, value);
      else if (keep(field, value)) out[field.name] = value;
    }
  }
  return out;
}

function keep(field: MessageField, value: unknown): boolean {
  if (value === undefined) return false;
  if (value === "" || value === 0 || value === false) return POINTER_SCALARS.has(field.name);
  return true;
}

function isVarintType(type: string): boolean {
  return ["int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"].includes(type);
}

function toNumber(type: string, n: bigint): number | boolean {
  if (type === "bool") return n !== 0n;
  if (type === "int32") return Number(BigInt.asIntN(32, n));
  if (type === "sint32" || type === "sint64") return Number((n >> 1n) ^ -(n & 1n));
  return Number(type === "int64" ? BigInt.asIntN(64, n) : n);
}

function scalarOrMessage(type: string, v: WireValue): unknown {
  switch (type) {
    case "string":
      return text(v);
    case "bytes":
      return base64(v.value as Uint8Array);
    case "double":
      return new DataView((v.value as Uint8Array).buffer, (v.value as Uint8Array).byteOffset).getFloat64(
        0,
        true,
      );
    case "float":
      return new DataView((v.value as Uint8Array).buffer, (v.value as Uint8Array).byteOffset).getFloat32(
        0,
        true,
      );
  }
  if (isVarintType(type)) return toNumber(type, v.value as bigint);
  return decodeMessage(type, v.value as Uint8Array);
}

function text(v: WireValue | undefined): string {
  return v && v.wireType === 2 ? new TextDecoder().decode(v.value) : "";
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
