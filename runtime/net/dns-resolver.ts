import { CLUSTER_DOMAIN } from "../../core/config.ts";
import type { ServiceRecord } from "../../core/seams/cluster-dns.ts";

export type { ServiceRecord };

/**
 * Cluster DNS answers, as a pure function from a query packet to a response packet (RFC 1035
 * wire format); the socket lives in runtime/net/dns-server.ts.
 * - `<service>.<namespace>.svc.cluster.local` A → the ClusterIP (headless: the ready endpoint
 *   IPs; ExternalName: a CNAME); `a-b-c-d.<namespace>.pod.cluster.local` A → a.b.c.d;
 *   `_<port>._<proto>.<svc>.<ns>.svc.cluster.local` SRV → the Service's name and port number.
 * - Short names work through the pod's search path (`<ns>.svc.cluster.local svc.cluster.local
 *   cluster.local`, ndots:5), so an unknown cluster name must be a quick NXDOMAIN.
 * - AAAA and other types of a known name → NODATA (NOERROR, no answer): pods are IPv4 only.
 * - Reverse lookups of cluster addresses answer `<svc>.<ns>.svc.cluster.local` (ClusterIPs) or
 *   `a-b-c-d.<ns>.pod.cluster.local` (pods), NXDOMAIN for unused ones in the cluster's ranges.
 * - Anything outside the cluster domain goes to `forward` (the host's resolver) if there is one,
 *   else REFUSED.
 */

export interface DnsResolverOptions {
  domain?: string;
  lookupService(namespace: string, name: string): ServiceRecord | undefined;
  /**
   * Reverse lookups (`d.c.b.a.in-addr.arpa` PTR): undefined when the address is not the
   * cluster's (the query is forwarded), `{}` for a cluster address without a name (NXDOMAIN,
   * answered at once: a server looking up its clients must not wait for an upstream).
   */
  lookupAddress?(ip: string): { name?: string } | undefined;
  forward?: (query: Uint8Array) => Promise<Uint8Array | undefined>;
  /** Seconds; short so a recreated Service is seen quickly. Default 5. */
  ttl?: number;
}

export interface DnsResolver {
  /** The response to one query; undefined for packets not worth answering (garbage, responses). */
  resolve(query: Uint8Array): Promise<Uint8Array | undefined>;
}

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_PTR = 12;
const TYPE_SRV = 33;
const CLASS_IN = 1;
const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;

interface Question {
  name: string;
  type: number;
  class: number;
  /** Offset just past the question: the bytes to echo back. */
  end: number;
}

export function createDnsResolver(options: DnsResolverOptions): DnsResolver {
  const domain = (options.domain ?? CLUSTER_DOMAIN).toLowerCase();
  const ttl = options.ttl ?? 5;

  function answerCluster(query: Uint8Array, q: Question): Uint8Array {
    const labels = q.name.slice(0, -(domain.length + 1)).split(".");
    // <svc>.<ns>.svc and <a-b-c-d>.<ns>.pod are the names that exist.
    if (labels.length === 3 && labels[2] === "svc") {
      const record = options.lookupService(labels[1]!, labels[0]!);
      if (!record) return reply(query, q, RCODE.nxDomain, true, []);
      if (q.class !== CLASS_IN) return reply(query, q, RCODE.noError, true, []);
      if (record.externalName && (q.type === TYPE_A || q.type === TYPE_CNAME)) {
        return reply(query, q, RCODE.noError, true, [rr(TYPE_CNAME, ttl, encodeName(record.externalName))]);
      }
      if (q.type !== TYPE_A) return reply(query, q, RCODE.noError, true, []);
      return reply(
        query,
        q,
        RCODE.noError,
        true,
        record.ips.map((ip) => rr(TYPE_A, ttl, ipBytes(ip))),
      );
    }
    // <hostname>.<svc>.<ns>.svc: a headless Service's named endpoint (a StatefulSet pod).
    if (labels.length === 4 && labels[3] === "svc" && !labels[0]!.startsWith("_")) {
      const ips = options.lookupService(labels[2]!, labels[1]!)?.hosts?.[labels[0]!];
      if (!ips?.length) return reply(query, q, RCODE.nxDomain, true, []);
      const answers =
        q.type === TYPE_A && q.class === CLASS_IN ? ips.map((ip) => rr(TYPE_A, ttl, ipBytes(ip))) : [];
      return reply(query, q, RCODE.noError, true, answers);
    }
    // _<port>._<proto>.<svc>.<ns>.svc: SRV naming the Service and the port number.
    if (
      labels.length === 5 &&
      labels[4] === "svc" &&
      labels[0]!.startsWith("_") &&
      labels[1]!.startsWith("_")
    ) {
      const record = options.lookupService(labels[3]!, labels[2]!);
      const port = record?.ports?.find(
        (p) =>
          p.name?.toLowerCase() === labels[0]!.slice(1) &&
          (p.protocol ?? "TCP").toLowerCase() === labels[1]!.slice(1),
      );
      if (!record || !port) return reply(query, q, RCODE.nxDomain, true, []);
      if (q.type !== TYPE_SRV) return reply(query, q, RCODE.noError, true, []);
      const target = encodeName(`${labels[2]}.${labels[3]}.svc.${domain}`);
      const data = new Uint8Array(6 + target.length);
      new DataView(data.buffer).setUint16(2, 100); // priority 0, weight 100
      new DataView(data.buffer).setUint16(4, port.port);
      data.set(target, 6);
      return reply(query, q, RCODE.noError, true, [rr(TYPE_SRV, ttl, data)]);
    }
    if (labels.length === 3 && labels[2] === "pod") {
      const ip = labels[0]!.replaceAll("-", ".");
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) || ip.split(".").some((n) => Number(n) > 255)) {
        return reply(query, q, RCODE.nxDomain, true, []);
      }
      return reply(query, q, RCODE.noError, true, q.type === TYPE_A ? [rr(TYPE_A, ttl, ipBytes(ip))] : []);
    }
    return reply(query, q, RCODE.nxDomain, true, []);
  }

  return {
    async resolve(query) {
      if (query.length < 12 || query[2]! & 0x80) return undefined; // too short, or itself a response
      const opcode = (query[2]! >> 3) & 0x0f;
      const qdcount = (query[4]! << 8) | query[5]!;
      const q = qdcount === 1 ? parseQuestion(query) : undefined;
      if (!q) return reply(query, undefined, RCODE.formErr, false, []);
      if (opcode !== 0) return reply(query, q, RCODE.notImp, false, []);
      if (q.name === domain || q.name.endsWith(`.${domain}`)) return answerCluster(query, q);
      const reverse = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(q.name);
      const known =
        reverse && options.lookupAddress?.([reverse[4], reverse[3], reverse[2], reverse[1]].join("."));
      if (known) {
        if (!known.name) return reply(query, q, RCODE.nxDomain, true, []);
        return reply(
          query,
          q,
          RCODE.noError,
          true,
          q.type === TYPE_PTR ? [rr(TYPE_PTR, ttl, encodeName(known.name))] : [],
        );
      }
      if (!options.forward) return reply(query, q, RCODE.refused, false, []);
      try {
        return (await options.forward(query)) ?? reply(query, q, RCODE.servFail, false, []);
      } catch {
        return reply(query, q, RCODE.servFail, false, []);
      }
    },
  };
}

function parseQuestion(msg: Uint8Array): Question | undefined {
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const len = msg[i];
    if (len === undefined || len > 63) return undefined; // compression is not used in questions
    i++;
    if (len === 0) break;
    if (i + len > msg.length) return undefined;
    labels.push(new TextDecoder().decode(msg.subarray(i, i + len)).toLowerCase());
    i += len;
  }
  if (i + 4 > msg.length) return undefined;
  return {
    name: labels.join("."),
    type: (msg[i]! << 8) | msg[i + 1]!,
    class: (msg[i + 2]! << 8) | msg[i + 3]!,
    end: i + 4,
  };
}

/** A resource record whose owner is the question name (compression pointer to offset 12). */
function rr(type: number, ttl: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xc00c);
  view.setUint16(2, type);
  view.setUint16(4, CLASS_IN);
  view.setUint32(6, ttl);
  view.setUint16(10, data.length);
  out.set(data, 12);
  return out;
}

function reply(
  query: Uint8Array,
  q: Question | undefined,
  rcode: number,
  authoritative: boolean,
  answers: Uint8Array[],
): Uint8Array {
  const question = q ? query.subarray(12, q.end) : new Uint8Array();
  const size = 12 + question.length + answers.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = query[0]!;
  out[1] = query[1]!;
  // QR, the query's opcode and RD; AA for cluster names; RA (we recurse by forwarding).
  out[2] = 0x80 | (query[2]! & 0x79) | (authoritative ? 0x04 : 0);
  out[3] = 0x80 | rcode;
  view.setUint16(4, q ? 1 : 0);
  view.setUint16(6, answers.length);
  out.set(question, 12);
  let at = 12 + question.length;
  for (const a of answers) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function ipBytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split(".").map(Number));
}

function encodeName(name: string): Uint8Array {
  const parts = name.replace(/\.$/, "").split(".").filter(Boolean);
  const bytes: number[] = [];
  for (const p of parts) {
    const enc = new TextEncoder().encode(p.slice(0, 63));
    bytes.push(enc.length, ...enc);
  }
  bytes.push(0);
  return Uint8Array.from(bytes);
}

/** Builds an A query (tests, health checks). */
export function encodeQuery(id: number, name: string, type = TYPE_A): Uint8Array {
  const qname = encodeName(name);
  const out = new Uint8Array(12 + qname.length + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1);
  out.set(qname, 12);
  view.setUint16(12 + qname.length, type);
  view.setUint16(14 + qname.length, CLASS_IN);
  return out;
}

/** rcode and A-record addresses of a response (tests). */
export function decodeResponse(msg: Uint8Array): {
  id: number;
  rcode: number;
  authoritative: boolean;
  addresses: string[];
  answers: number;
} {
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const q = parseQuestion(msg);
  const answers = view.getUint16(6);
  const addresses: string[] = [];
  let i = q?.end ?? 12;
  for (let n = 0; n < answers && i < msg.length; n++) {
    i += (msg[i]! & 0xc0) === 0xc0 ? 2 : skipName(msg, i);
    const type = view.getUint16(i);
    const len = view.getUint16(i + 8);
    if (type === TYPE_A && len === 4) addresses.push([...msg.subarray(i + 10, i + 14)].join("."));
    i += 10 + len;
  }
  return {
    id: view.getUint16(0),
    rcode: msg[3]! & 0x0f,
    authoritative: !!(msg[2]! & 0x04),
    addresses,
    answers,
  };
}

function skipName(msg: Uint8Array, start: number): number {
  let i = start;
  while (msg[i] && (msg[i]! & 0xc0) !== 0xc0) i += msg[i]! + 1;
  return i - start + (msg[i] ? 2 : 1);
}
