import { INLINE } from "./decode.ts";
import { fieldsOf, hasMessage, type MessageField, messageName } from "./fields.ts";
import { ProtoWriter } from "./writer.ts";

/**
 * Encodes API objects as `application/vnd.kubernetes.protobuf`, driven by the same message
 * descriptions the decoder reads: the "k8s\0" magic, then runtime.Unknown{typeMeta, raw} whose raw
 * is the object's message. Fields go out in field-number order, as Go's generated marshallers
 * write them; a field absent from the JSON is absent from the message, one present is written,
 * zero or not.
 *
 * An object carrying a field its description lacks is not encoded (`undefined`): the caller answers
 * JSON instead, or 406, rather than drop data on the floor.
 */
const MAGIC = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);
const text = new TextEncoder();

/** A field the description does not know, or a value of the wrong shape for its field. */
class NotDescribed extends Error {}

/** The full protobuf body of an object or list, or undefined when its kind or a field is not described. */
export function encodeProtobufObject(obj: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (!isObject(obj) || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return undefined;
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const message = messageName(group!, version!, kind);
  if (!hasMessage(message)) return undefined;
  let raw: Uint8Array;
  try {
    raw = encodeMessage(message, obj);
  } catch (e) {
    if (e instanceof NotDescribed) return undefined;
    throw e;
  }
  const envelope = new ProtoWriter()
    .message(1, (t) => t.string(1, apiVersion).string(2, kind))
    .bytes(2, raw)
    // Go writes the two empty content fields too; kubectl's own bodies end with them.
    .bytes(3, new Uint8Array())
    .bytes(4, new Uint8Array())
    .finish();
  const out = new Uint8Array(MAGIC.byteLength + envelope.byteLength);
  out.set(MAGIC);
  out.set(envelope, MAGIC.byteLength);
  return out;
}

/** Why an object of a described kind cannot be encoded (the field the description lacks), if it cannot. */
export function protobufGap(obj: unknown): string | undefined {
  try {
    const o = obj as { apiVersion: string; kind: string };
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
    encodeMessage(messageName(group!, version!, o.kind), obj);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** One message's bytes; throws NotDescribed for a field or shape the description lacks. */
export function encodeMessage(message: string, value: unknown): Uint8Array {
  const w = new ProtoWriter();
  writeMessage(w, message, value);
  return w.finish();
}

function writeMessage(w: ProtoWriter, message: string, value: unknown): void {
  if (writeSpecial(w, message, value)) return;
  if (!isObject(value)) throw new NotDescribed(`${message} is not an object`);
  const byName = namedFields(message);
  const values = new Map<MessageField & { number: number }, unknown>();
  const inline = new Map<string, Record<string, unknown>>();
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const field = byName.get(key);
    if (field) {
      values.set(field, v);
      continue;
    }
    const host = inlineHost(byName, key);
    if (host) {
      const bag = inline.get(host.name) ?? {};
      bag[key] = v;
      inline.set(host.name, bag);
      continue;
    }
    // A top-level kind's type meta lives in the envelope (and list items carry none).
    if ((key === "apiVersion" || key === "kind") && isTopLevel(message)) continue;
    throw new NotDescribed(`${message} has no field ${key}`);
  }
  for (const [name, bag] of inline) values.set(byName.get(name)!, bag);
  const ordered = [...values].sort(([a], [b]) => a.number - b.number);
  for (const [field, v] of ordered) writeField(w, field.number, field, v);
}

function writeField(w: ProtoWriter, number: number, field: MessageField, value: unknown): void {
  if (field.label === "r") {
    if (!Array.isArray(value)) throw new NotDescribed(`${field.name} is not a list`);
    for (const item of value) writeValue(w, number, field.type, item);
    return;
  }
  if (field.label === "m") {
    if (!isObject(value)) throw new NotDescribed(`${field.name} is not a map`);
    // Go's marshallers write map entries sorted by key.
    for (const key of Object.keys(value).sort()) {
      const entry = new ProtoWriter().bytes(1, text.encode(key));
      writeValue(entry, 2, field.type, value[key]);
      w.bytes(number, entry.finish());
    }
    return;
  }
  writeValue(w, number, field.type, value);
}

/**
 * One scalar or embedded message. A value present in the JSON is written even when zero or empty:
 * Go writes its non-pointer fields that way, and for a pointer field (`runAsUser: 0`,
 * `storageClassName: ""`, `privileged: false`) the explicit zero is the information.
 */
function writeValue(w: ProtoWriter, number: number, type: string, value: unknown): void {
  switch (type) {
    case "string":
      if (typeof value !== "string") throw new NotDescribed(`expected a string, got ${typeof value}`);
      w.bytes(number, text.encode(value));
      return;
    case "bytes":
      if (typeof value !== "string") throw new NotDescribed(`expected base64 bytes, got ${typeof value}`);
      w.bytes(number, fromBase64(value));
      return;
    case "bool":
      if (typeof value !== "boolean") throw new NotDescribed(`expected a boolean, got ${typeof value}`);
      w.varintField(number, value ? 1 : 0);
      return;
    case "double":
    case "float":
      if (typeof value !== "number") throw new NotDescribed(`expected a number, got ${typeof value}`);
      if (type === "double") w.doubleField(number, value);
      else w.float(number, value);
      return;
    case "int32":
    case "int64":
    case "uint32":
    case "uint64":
      if (typeof value !== "number" || !Number.isInteger(value))
        throw new NotDescribed(`expected an integer, got ${JSON.stringify(value)}`);
      w.varintField(number, BigInt(value));
      return;
  }
  if (type.startsWith("sint")) throw new NotDescribed(`${type} is not written by Kubernetes messages`);
  w.bytes(number, encodeMessage(type, value));
}

/** The wrapper types whose JSON is a scalar: times, quantities, int-or-string, raw JSON. */
function writeSpecial(w: ProtoWriter, message: string, value: unknown): boolean {
  switch (message) {
    case "meta.v1.Time":
    case "meta.v1.MicroTime": {
      if (typeof value !== "string") throw new NotDescribed(`${message} is not a string`);
      const { seconds, nanos } = parseTime(value);
      if (seconds) w.varintField(1, BigInt(seconds));
      if (nanos) w.varintField(2, nanos);
      return true;
    }
    case "util.intstr.IntOrString":
      if (typeof value === "string") w.varintField(1, 1).bytes(3, text.encode(value));
      else if (typeof value === "number" && Number.isInteger(value)) w.varintField(2, value);
      else throw new NotDescribed("IntOrString is neither an integer nor a string");
      return true;
    case "api.resource.Quantity":
      if (typeof value === "number") w.bytes(1, text.encode(String(value)));
      else if (typeof value === "string") w.bytes(1, text.encode(value));
      else throw new NotDescribed("Quantity is not a string");
      return true;
    case "runtime.RawExtension":
    case "meta.v1.FieldsV1":
      w.bytes(1, text.encode(JSON.stringify(value)));
      return true;
  }
  return false;
}

function parseTime(value: string): { seconds: number; nanos: number } {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new NotDescribed(`${value} is not an RFC 3339 time`);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? "";
  return {
    seconds: Math.floor(ms / 1000),
    nanos: fraction ? Number(fraction.slice(0, 9).padEnd(9, "0")) : 0,
  };
}

const named = new Map<string, Map<string, MessageField & { number: number }>>();

function namedFields(message: string): Map<string, MessageField & { number: number }> {
  let m = named.get(message);
  if (m) return m;
  m = new Map();
  for (const [number, field] of fieldsOf(message)) m.set(field.name, { ...field, number });
  named.set(message, m);
  return m;
}

/** The `json:",inline"` field whose message holds this key (Volume's volumeSource, …). */
function inlineHost(
  byName: Map<string, MessageField & { number: number }>,
  key: string,
): (MessageField & { number: number }) | undefined {
  for (const field of byName.values()) {
    if (INLINE.has(field.name) && namedFields(field.type).has(key)) return field;
  }
  return undefined;
}

function isTopLevel(message: string): boolean {
  const first = fieldsOf(message).get(1);
  return (
    first?.name === "metadata" && (first.type === "meta.v1.ObjectMeta" || first.type === "meta.v1.ListMeta")
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fromBase64(value: string): Uint8Array {
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    throw new NotDescribed("bytes are not base64");
  }
}

/**
 * One event of a `application/vnd.kubernetes.protobuf;stream=watch` stream: a 4-byte big-endian
 * length, then the WatchEvent message itself (the stream's raw serializer adds no envelope) whose
 * object is the fully enveloped object. Undefined when the object cannot be encoded.
 */
export function encodeWatchEvent(type: string, object: unknown): Uint8Array | undefined {
  const raw = encodeProtobufObject(object);
  if (!raw) return undefined;
  const event = new ProtoWriter()
    .bytes(1, text.encode(type))
    .message(2, (o) => o.bytes(1, raw))
    .finish();
  const frame = new Uint8Array(4 + event.byteLength);
  new DataView(frame.buffer).setUint32(0, event.byteLength);
  frame.set(event, 4);
  return frame;
}
