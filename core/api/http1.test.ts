import { describe, expect, test } from "bun:test";
import { dechunk, readResponse } from "./http1.ts";

const enc = new TextEncoder();
/** A stream of `text` cut into pieces of `size` bytes. */
function pieces(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = enc.encode(text);
  return new ReadableStream({
    start(c) {
      for (let at = 0; at < bytes.byteLength; at += size) c.enqueue(bytes.slice(at, at + size));
      c.close();
    },
  });
}

describe("HTTP/1.1 relay", () => {
  const chunkedBody = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";

  test("de-chunking survives every split point", async () => {
    for (const size of [1, 2, 3, 5, 7, 100]) {
      const text = await new Response(pieces(chunkedBody, size).pipeThrough(dechunk())).text();
      expect(`${size}:${text}`).toBe(`${size}:hello, world`);
    }
  });

  test("a response head is parsed; hop-by-hop headers go, the body follows", async () => {
    const raw = `HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunkedBody}`;
    const res = await readResponse(pieces(raw, 4));
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("connection")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBeNull();
    expect(await new Response(res.body).text()).toBe("hello, world");
    const plain = await readResponse(pieces("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", 64));
    expect(await new Response(plain.body).text()).toBe("abc");
  });

  test("not HTTP, or closed before answering, is an error", async () => {
    await expect(readResponse(pieces("SSH-2.0-OpenSSH\r\n\r\n", 8))).rejects.toThrow(
      /did not answer with HTTP/,
    );
    await expect(readResponse(pieces("HTTP/1.1 200", 8))).rejects.toThrow(/closed the connection/);
  });
});
