import { constants, inflateSync } from "node:zlib";
import { SPDY_DICTIONARY } from "./dictionary.ts";

/**
 * SPDY/3.1 framing, the subset kubectl's port-forward uses (moby/spdystream): SYN_STREAM,
 * SYN_REPLY, RST_STREAM, PING, GOAWAY and DATA. Frames arrive as a byte stream cut anywhere;
 * `FrameReader` reassembles them.
 */
export const FRAME = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;
export const FLAG_FIN = 0x01;

export type Frame =
  | { control: true; type: number; flags: number; data: Uint8Array }
  | { control: false; streamId: number; flags: number; data: Uint8Array };

export class FrameReader {
  private buffer = new Uint8Array(0);

  /** Appends bytes and returns every frame now complete. */
  push(bytes: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.buffer.byteLength + bytes.byteLength);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.byteLength);
    const frames: Frame[] = [];
    let at = 0;
    while (joined.byteLength - at >= 8) {
      const length = (joined[at + 5]! << 16) | (joined[at + 6]! << 8) | joined[at + 7]!;
      if (joined.byteLength - at < 8 + length) break;
      const view = new DataView(joined.buffer, joined.byteOffset + at);
      const data = joined.slice(at + 8, at + 8 + length);
      const flags = joined[at + 4]!;
      if (joined[at]! & 0x80) frames.push({ control: true, type: view.getUint16(2), flags, data });
      else frames.push({ control: false, streamId: view.getUint32(0) & 0x7fffffff, flags, data });
      at += 8 + length;
    }
    this.buffer = joined.slice(at);
    return frames;
  }
}

export function controlFrame(type: number, flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0x8003); // control bit + version 3
  view.setUint16(2, type);
  view.setUint32(4, (flags << 24) | data.byteLength);
  out.set(data, 8);
  return out;
}

export function dataFrame(streamId: number, flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, streamId & 0x7fffffff);
  view.setUint32(4, (flags << 24) | data.byteLength);
  out.set(data, 8);
  return out;
}

/**
 * Reads header blocks: one zlib stream per direction for the whole connection, primed with the
 * SPDY dictionary. The bytes seen so far are inflated again each time (blocks are small and few,
 * two per forwarded TCP connection), which needs no streaming zlib API.
 */
export class HeaderDecoder {
  private compressed = new Uint8Array(0);
  private consumed = 0;

  decode(block: Uint8Array): Map<string, string> {
    const joined = new Uint8Array(this.compressed.byteLength + block.byteLength);
    joined.set(this.compressed);
    joined.set(block, this.compressed.byteLength);
    this.compressed = joined;
    const all = new Uint8Array(
      inflateSync(joined, { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH }),
    );
    const plain = all.subarray(this.consumed);
    this.consumed = all.byteLength;
    return parseHeaderBlock(plain);
  }
}

function parseHeaderBlock(plain: Uint8Array): Map<string, string> {
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const text = new TextDecoder();
  const headers = new Map<string, string>();
  let at = 0;
  const next = () => {
    const len = view.getUint32(at);
    const value = text.decode(plain.subarray(at + 4, at + 4 + len));
    at += 4 + len;
    return value;
  };
  const count = view.getUint32(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = next();
    headers.set(name.toLowerCase(), next());
  }
  return headers;
}

/**
 * Writes header blocks as zlib *stored* (uncompressed) blocks: a valid continuation of one zlib
 * stream per connection that any inflater primed with the dictionary reads, with no compressor.
 */
export class HeaderEncoder {
  private started = false;

  encode(headers: Record<string, string>): Uint8Array {
    const enc = new TextEncoder();
    const parts: Uint8Array[] = [u32(Object.keys(headers).length)];
    for (const [name, value] of Object.entries(headers)) {
      const n = enc.encode(name.toLowerCase());
      const v = enc.encode(value);
      parts.push(u32(n.byteLength), n, u32(v.byteLength), v);
    }
    const plain = concat(parts);
    const head = this.started
      ? new Uint8Array(0)
      : concat([new Uint8Array([0x78, 0x20]), u32(adler32(SPDY_DICTIONARY))]);
    this.started = true;
    // The empty stored block after the data is what a zlib sync flush ends with: Go's inflater
    // hands out a block's bytes only once it has read the next block header.
    return concat([head, storedBlock(plain), storedBlock(new Uint8Array(0))]);
  }
}

/** A non-final deflate stored block: BFINAL=0, BTYPE=00, byte-aligned LEN and NLEN, the bytes. */
function storedBlock(data: Uint8Array): Uint8Array {
  const head = new Uint8Array([
    0,
    data.byteLength & 0xff,
    data.byteLength >> 8,
    ~data.byteLength & 0xff,
    (~data.byteLength >> 8) & 0xff,
  ]);
  return concat([head, data]);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
