import { connect } from "node:net";
import { Readable, Writable } from "node:stream";
import type { DuplexStream } from "../../core/node-services.ts";

/**
 * A TCP connection to a pod's port, for port-forward (NodeServices.portForward). Pod IPs are
 * reachable from the host over the bridge, so no namespace switch is needed. Streams carry
 * backpressure; closing the writable half-closes the connection, as kubectl expects.
 */
export function dialPod(ip: string, port: number, { timeoutMs = 5000 } = {}): Promise<DuplexStream> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to pod ${ip}:${port}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`connecting to pod ${ip}:${port}: ${e.message}`));
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      socket.on("error", () => {}); // surfaced through the streams
      resolve({
        readable: Readable.toWeb(socket) as unknown as ReadableStream<Uint8Array>,
        writable: Writable.toWeb(socket) as WritableStream<Uint8Array>,
        close: () => socket.destroy(),
      });
    });
  });
}
