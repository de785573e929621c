import type { Socket } from "../socket.ts";
import {
  controlFrame,
  dataFrame,
  FLAG_FIN,
  FRAME,
  FrameReader,
  HeaderDecoder,
  HeaderEncoder,
} from "./frames.ts";

/** One client-opened SPDY stream, already answered with SYN_REPLY. */
export interface SpdyStream {
  id: number;
  headers: Map<string, string>;
  write(data: Uint8Array): void;
  /** Half-closes our side (DATA with FIN). */
  end(): void;
  onData(listener: (data: Uint8Array) => void): void;
  /** The client finished sending (FIN) or reset the stream. */
  onEnd(listener: () => void): void;
}

const MAX_DATA = 32 * 1024;

/**
 * The server side of a SPDY/3.1 session whose byte stream travels in WebSocket messages
 * (`SPDY/3.1+portforward.k8s.io`). Messages are not frames: bytes are reassembled first.
 */
export function serveSpdy(socket: Socket, onStream: (stream: SpdyStream) => void, onClose: () => void): void {
  const reader = new FrameReader();
  const decoder = new HeaderDecoder();
  const encoder = new HeaderEncoder();
  const streams = new Map<
    number,
    { data: ((d: Uint8Array) => void)[]; end: (() => void)[]; ended: boolean; finSent: boolean }
  >();
  let closed = false;

  const endRemote = (id: number) => {
    const s = streams.get(id);
    if (!s || s.ended) return;
    s.ended = true;
    for (const l of s.end) l();
  };

  socket.onClose(() => {
    closed = true;
    for (const id of streams.keys()) endRemote(id);
    onClose();
  });

  socket.onMessage((bytes) => {
    let frames: ReturnType<FrameReader["push"]>;
    try {
      frames = reader.push(bytes);
    } catch {
      socket.close(1002, "malformed SPDY frame");
      return;
    }
    for (const frame of frames) {
      if (!frame.control) {
        const s = streams.get(frame.streamId);
        if (!s) continue;
        if (frame.data.byteLength) for (const l of s.data) l(frame.data);
        if (frame.flags & FLAG_FIN) endRemote(frame.streamId);
        continue;
      }
      const view = new DataView(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
      switch (frame.type) {
        case FRAME.synStream: {
          const id = view.getUint32(0) & 0x7fffffff;
          const headers = decoder.decode(frame.data.subarray(10));
          const state = {
            data: [] as ((d: Uint8Array) => void)[],
            end: [] as (() => void)[],
            ended: false,
            finSent: false,
          };
          streams.set(id, state);
          const reply = new Uint8Array(4);
          new DataView(reply.buffer).setUint32(0, id);
          socket.send(controlFrame(FRAME.synReply, 0, concat2(reply, encoder.encode({}))));
          onStream({
            id,
            headers,
            write(data) {
              for (let at = 0; at < data.byteLength && !closed && !state.finSent; at += MAX_DATA) {
                socket.send(dataFrame(id, 0, data.subarray(at, at + MAX_DATA)));
              }
            },
            end() {
              if (closed || state.finSent) return;
              state.finSent = true;
              socket.send(dataFrame(id, FLAG_FIN, new Uint8Array(0)));
            },
            onData: (l) => state.data.push(l),
            onEnd: (l) => state.end.push(l),
          });
          if (frame.flags & FLAG_FIN) endRemote(id);
          break;
        }
        case FRAME.rstStream:
          endRemote(view.getUint32(0) & 0x7fffffff);
          break;
        case FRAME.ping:
          socket.send(controlFrame(FRAME.ping, 0, frame.data));
          break;
        case FRAME.goAway:
          socket.close(1000);
          break;
        default:
          // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do for port-forward
          break;
      }
    }
  });
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
