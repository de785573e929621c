/**
 * Just enough HTTP/1.1 to relay one request over a raw byte stream into a pod (the `proxy`
 * subresource): the request is written with `Connection: close`, the response head is parsed,
 * and its body streamed back, de-chunked when the pod answered with chunked encoding.
 */
const MAX_HEAD = 64 * 1024;
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

export function encodeRequest(method: string, path: string, headers: Headers, body: Uint8Array): Uint8Array {
  const lines = [`${method} ${path} HTTP/1.1`];
  headers.forEach((value, name) => {
    lines.push(`${name}: ${value}`);
  });
  if (body.byteLength || !["GET", "HEAD", "DELETE", "OPTIONS"].includes(method))
    lines.push(`content-length: ${body.byteLength}`);
  lines.push("connection: close", "", "");
  const head = new TextEncoder().encode(lines.join("\r\n"));
  const out = new Uint8Array(head.byteLength + body.byteLength);
  out.set(head);
  out.set(body, head.byteLength);
  return out;
}

export interface ParsedResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array>;
}

/** Reads the status line and headers, then hands the rest of the stream on as the body. */
export async function readResponse(stream: ReadableStream<Uint8Array>): Promise<ParsedResponse> {
  const reader = stream.getReader();
  let buffer: Uint8Array = new Uint8Array(0);
  let end = -1;
  while (end < 0) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the pod closed the connection before answering");
    buffer = join(buffer, value);
    end = indexOfBlankLine(buffer);
    if (end < 0 && buffer.byteLength > MAX_HEAD) throw new Error("the pod's response head is too large");
  }
  const head = new TextDecoder().decode(buffer.subarray(0, end)).split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "");
  if (!status)
    throw new Error(`the pod did not answer with HTTP: ${JSON.stringify((head[0] ?? "").slice(0, 80))}`);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
  const rest = buffer.subarray(end + 4);
  const raw = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.byteLength) controller.enqueue(rest);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  for (const name of [...headers.keys()]) if (isHopByHop(name)) headers.delete(name);
  return { status: Number(status[1]), headers, body: chunked ? raw.pipeThrough(dechunk()) : raw };
}

/** Undoes chunked transfer encoding (chunk extensions and trailers ignored). */
export function dechunk(): TransformStream<Uint8Array, Uint8Array> {
  let buffer: Uint8Array = new Uint8Array(0);
  let state: "size" | "data" | "crlf" | "done" = "size";
  let remaining = 0;
  return new TransformStream({
    transform(chunk, controller) {
      buffer = join(buffer, chunk);
      for (;;) {
        if (state === "done") return;
        if (state === "size") {
          const eol = indexOf(buffer, 13, 10);
          if (eol < 0) return;
          const size = Number.parseInt(
            new TextDecoder().decode(buffer.subarray(0, eol)).split(";")[0]!.trim(),
            16,
          );
          if (Number.isNaN(size)) throw new Error("malformed chunked body");
          buffer = buffer.subarray(eol + 2);
          if (size === 0) {
            state = "done";
            controller.terminate();
            return;
          }
          remaining = size;
          state = "data";
        }
        if (state === "data") {
          if (buffer.byteLength === 0) return;
          const take = Math.min(remaining, buffer.byteLength);
          controller.enqueue(buffer.slice(0, take));
          buffer = buffer.subarray(take);
          remaining -= take;
          if (remaining > 0) return;
          state = "crlf";
        }
        if (state === "crlf") {
          if (buffer.byteLength < 2) return;
          buffer = buffer.subarray(2);
          state = "size";
        }
      }
    },
  });
}

function indexOfBlankLine(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.byteLength; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function indexOf(b: Uint8Array, x: number, y: number): number {
  for (let i = 0; i + 1 < b.byteLength; i++) if (b[i] === x && b[i + 1] === y) return i;
  return -1;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
