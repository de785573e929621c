import { connect } from "node:net";
import type { DuplexStream } from "../node-services.ts";

/**
 * A TCP connection as web streams: tcpSocket probes and port-forward dial pod IPs this way
 * (pod addresses are routable from the host through the bridge).
 */
export function tcpDial(ip: string, port: number): Promise<DuplexStream> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: ip, port });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
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
      resolve({ readable, writable, close: () => socket.destroy() });
    });
  });
}
