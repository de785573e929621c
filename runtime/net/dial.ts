import { connect } from "node:net";
import type { DuplexStream } from "../../core/seams/node-services.ts";

/**
 * A TCP connection to a pod's port as web streams, for tcpSocket probes, lifecycle hooks and
 * port-forward. Pod IPs are reachable from the host over the bridge, so no namespace switch is
 * needed. Closing the writable half-closes the connection, as kubectl's port-forward expects; a
 * failure names the target so a probe or port-forward message says what was unreachable.
 */
export function dialPod(ip: string, port: number, { timeoutMs = 5000 } = {}): Promise<DuplexStream> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port });
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`connecting to pod ${ip}:${port}: ${e.message}`));
    };
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socketStreams(socket));
    });
  });
}

function socketStreams(socket: ReturnType<typeof connect>): DuplexStream {
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on("data", (d: Uint8Array) => controller.enqueue(new Uint8Array(d)));
      socket.on("end", () => {
        try {
          controller.close();
        } catch {}
      });
      socket.on("error", (e) => {
        try {
          controller.error(e);
        } catch {}
      });
    },
    cancel() {
      socket.destroy();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((ok, fail) => socket.write(chunk, (e) => (e ? fail(e) : ok()))),
    close: () => new Promise<void>((ok) => socket.end(ok)),
    abort: () => void socket.destroy(),
  });
  return { readable, writable, close: () => socket.destroy() };
}
