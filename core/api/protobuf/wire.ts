/** A protobuf wire-format field as read: varints as bigint, length-delimited as bytes. */
export type WireValue =
  | { wireType: 0; value: bigint }
  | { wireType: 2; value: Uint8Array }
  | { wireType: 1 | 5; value: Uint8Array };

/** Splits one message into its fields, in wire order. Throws on truncated input. */
export function readFields(bytes: Uint8Array): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.byteLength) throw new Error("truncated varint");
      const b = bytes[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  };
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.byteLength) throw new Error("truncated field");
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  while (at < bytes.byteLength) {
    const key = Number(varint());
    const number = key >>> 3;
    const wireType = key & 7;
    let value: WireValue;
    if (wireType === 0) value = { wireType, value: varint() };
    else if (wireType === 2) value = { wireType, value: take(Number(varint())) };
    else if (wireType === 1) value = { wireType, value: take(8) };
    else if (wireType === 5) value = { wireType, value: take(4) };
    else throw new Error(`unsupported wire type ${wireType}`);
    const list = fields.get(number) ?? [];
    list.push(value);
    fields.set(number, list);
  }
  return fields;
}

/** Reads a packed run of varints (repeated scalars sent packed). */
export function readPackedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
    }
    out.push(result);
  }
  return out;
}
