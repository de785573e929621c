import { readFileSync } from "node:fs";
import type { DnsResolver } from "./dns-resolver.ts";

/**
 * The cluster DNS server: UDP and TCP on the bridge gateway (pods' nameserver), answering with
 * core/network/dns-resolver.ts. Must start after the bridge has its address (PodNetwork.ensureBridge).
 */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
  stop(): void;
}

export async function startDnsServer(options: {
  address: string;
  port?: number;
  resolver: DnsResolver;
}): Promise<DnsServer> {
  const { address, resolver } = options;
  const udp = await Bun.udpSocket({
    hostname: address,
    port: options.port ?? 53,
    socket: {
      data(socket, data, port, from) {
        void resolver
          .resolve(new Uint8Array(data))
          .then((answer) => {
            if (answer) socket.send(truncateForUdp(answer), port, from);
          })
          .catch(() => {});
      },
    },
  });
  // DNS over TCP: two-byte length prefix per message (clients retry with TCP after a truncated reply).
  const tcp = Bun.listen<{ buffer: Uint8Array }>({
    hostname: address,
    port: udp.port,
    socket: {
      open(socket) {
        socket.data = { buffer: new Uint8Array(0) };
      },
      data(socket, chunk) {
        const joined = new Uint8Array(socket.data.buffer.length + chunk.length);
        joined.set(socket.data.buffer);
        joined.set(chunk, socket.data.buffer.length);
        let buf = joined;
        while (buf.length >= 2) {
          const len = (buf[0]! << 8) | buf[1]!;
          if (buf.length < 2 + len) break;
          const msg = buf.slice(2, 2 + len);
          buf = buf.subarray(2 + len);
          void resolver.resolve(msg).then((answer) => {
            if (!answer) return;
            const framed = new Uint8Array(answer.length + 2);
            framed[0] = answer.length >> 8;
            framed[1] = answer.length & 255;
            framed.set(answer, 2);
            socket.write(framed);
          });
        }
        socket.data.buffer = buf.slice();
      },
    },
  });
  return {
    address,
    port: udp.port,
    stop() {
      udp.close();
      tcp.stop(true);
    },
  };
}

/** UDP answers are capped at 512 bytes (no EDNS): a longer one goes out empty with TC set. */
function truncateForUdp(answer: Uint8Array): Uint8Array {
  if (answer.length <= 512) return answer;
  let end = 12;
  while (answer[end]) end += answer[end]! + 1;
  end += 5;
  const out = answer.slice(0, end);
  out[2] = out[2]! | 0x02;
  new DataView(out.buffer).setUint16(6, 0);
  return out;
}

/**
 * The host's resolvers from /etc/resolv.conf (IPv4, port 53), minus minik's own address; empty
 * when there is none usable, and the cluster DNS then REFUSES outside names.
 */
export function hostUpstreams(ownAddress: string, resolvConf = "/etc/resolv.conf"): string[] {
  let text = "";
  try {
    text = readFileSync(resolvConf, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
    .filter((ip): ip is string => !!ip && ip !== ownAddress && ip !== "0.0.0.0")
    .map((ip) => `${ip}:53`);
}

/** Forwards a query to the upstreams in turn (fresh socket each, so answers cannot mix); undefined if none answers. */
export function createForwarder(
  upstreams: string[],
  timeoutMs = 2000,
): ((query: Uint8Array) => Promise<Uint8Array | undefined>) | undefined {
  if (!upstreams.length) return undefined;
  return async (query) => {
    for (const upstream of upstreams) {
      const [host, port] = upstream.split(":");
      const answer = await askOnce(host!, Number(port ?? 53), query, timeoutMs);
      if (answer) return answer;
    }
    return undefined;
  };
}

async function askOnce(
  host: string,
  port: number,
  query: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  const { promise, resolve } = Promise.withResolvers<Uint8Array | undefined>();
  const socket = await Bun.udpSocket({
    socket: {
      data(_s, data) {
        const msg = new Uint8Array(data);
        if (msg[0] === query[0] && msg[1] === query[1]) resolve(msg);
      },
    },
  });
  const timer = setTimeout(() => resolve(undefined), timeoutMs);
  try {
    socket.send(query, port, host);
    return await promise;
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
