/**
 * A self-signed server certificate made with WebCrypto alone (ECDSA P-256, SHA-256), so `minik up`
 * can serve HTTPS without openssl. kubectl sends its bearer token only over TLS; the kubeconfig
 * then trusts this very certificate through `certificate-authority-data` (Go accepts a root that is
 * the leaf itself).
 */
export interface TlsCertificate {
  /** PEM certificate, also what the kubeconfig's certificate-authority-data holds (base64 of it). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface CertificateOptions {
  commonName?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  validDays?: number;
  now?: Date;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
};

export async function createSelfSignedCertificate(options: CertificateOptions = {}): Promise<TlsCertificate> {
  const now = options.now ?? new Date();
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const name = seq(set(seq(oid(OID.commonName), utf8(options.commonName ?? "minik"))));
  const notBefore = new Date(now.getTime() - 60 * 60_000);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 3650) * 86_400_000);
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f;
  const altNames = [
    ...(options.dnsNames ?? ["localhost"]).map((d) => tlv(0x82, new TextEncoder().encode(d))),
    ...(options.ipAddresses ?? ["127.0.0.1"]).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const extensions = seq(
    seq(oid(OID.basicConstraints), bool(true), octets(seq(bool(true)))),
    // digitalSignature + keyCertSign
    seq(oid(OID.keyUsage), bool(true), octets(tlv(0x03, new Uint8Array([0x02, 0x84])))),
    seq(oid(OID.subjectAltName), octets(seq(...altNames))),
  );
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, integer(new Uint8Array([2]))),
    integer(serial),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    tlv(0xa3, extensions),
  );
  const raw = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      keys.privateKey,
      tbs as Uint8Array<ArrayBuffer>,
    ),
  );
  const signature = seq(integer(raw.subarray(0, 32)), integer(raw.subarray(32)));
  const certificate = seq(tbs, algorithm, tlv(0x03, concat(new Uint8Array([0]), signature)));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: pem("CERTIFICATE", certificate), key: pem("PRIVATE KEY", pkcs8) };
}

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.byteLength;
  const length =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat(new Uint8Array([tag, ...length]), body);
}

const seq = (...parts: Uint8Array[]) => tlv(0x30, concat(...parts));
const set = (...parts: Uint8Array[]) => tlv(0x31, concat(...parts));
const octets = (body: Uint8Array) => tlv(0x04, body);
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));

/** DER INTEGER of an unsigned big-endian magnitude: leading zeros stripped, a 0 added if the top bit is set. */
function integer(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.byteLength - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.subarray(start);
  return tlv(0x02, bytes[0]! & 0x80 ? concat(new Uint8Array([0]), bytes) : bytes);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  if (d.getUTCFullYear() < 2050) return tlv(0x17, new TextEncoder().encode(`${iso.slice(2)}Z`));
  return tlv(0x18, new TextEncoder().encode(`${iso}Z`));
}

function ipBytes(ip: string): Uint8Array {
  if (ip.includes(":")) return ipv6Bytes(ip);
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IP address: ${ip}`);
  }
  return new Uint8Array(parts);
}

function ipv6Bytes(ip: string): Uint8Array {
  const [head, tail, extra] = ip.split("::");
  if (extra !== undefined) throw new Error(`not an IP address: ${ip}`);
  const groups = (s: string | undefined) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array(Math.max(0, fill)).fill(0), ...right];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff)))
    throw new Error(`not an IP address: ${ip}`);
  return new Uint8Array(all.flatMap((g) => [g >> 8, g & 0xff]));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function pem(label: string, der: Uint8Array): string {
  let s = "";
  for (const b of der) s += String.fromCharCode(b);
  const lines = btoa(s).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
