/**
 * A protobuf wire-format writer for the messages minik encodes (OpenAPI v2, API objects): fields are
 * appended in the order written; empty strings, false and absent values are left out, as proto3
 * does.
 */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private static readonly encoder = new TextEncoder();

  private varint(n: bigint | number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.chunks.push(Uint8Array.from(out));
  }

  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  string(field: number, value: string | undefined): this {
    if (!value) return this;
    return this.bytes(field, ProtoWriter.encoder.encode(value));
  }

  strings(field: number, values: readonly string[] | undefined): this {
    for (const v of values ?? []) this.bytes(field, ProtoWriter.encoder.encode(v));
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.key(field, 0);
    this.varint(1);
    return this;
  }

  /** A bool written even when false (a oneof member: its presence is the information). */
  boolPresent(field: number, value: boolean): this {
    this.key(field, 0);
    this.varint(value ? 1 : 0);
    return this;
  }

  int64(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  double(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    return this.doubleField(field, value);
  }

  /** A 64-bit float, written even when zero. */
  doubleField(field: number, value: number): this {
    this.key(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.chunks.push(b);
    return this;
  }

  /** A varint written even when zero (a pointer field whose explicit zero means something). */
  varintField(field: number, value: bigint | number): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  /** A 32-bit float, written even when zero. */
  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.byteLength);
    this.chunks.push(value);
    return this;
  }

  /** An embedded message (written even when empty: presence matters for oneofs). */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const size = this.chunks.reduce((n, c) => n + c.byteLength, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}
