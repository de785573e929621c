/** IPv4 address arithmetic for the pod and service ranges. Addresses are unsigned 32-bit numbers. */

export interface Cidr {
  /** As given, normalised: `10.88.0.0/16`. */
  text: string;
  network: number;
  prefixLength: number;
  /** Number of addresses in the range, network and broadcast included. */
  size: number;
}

export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** Parses `a.b.c.d/n`; throws an Error naming the bad value (config errors are fatal at start-up). */
export function parseCidr(text: string): Cidr {
  const [addr, bits, extra] = text.split("/");
  const ip = addr === undefined ? undefined : parseIPv4(addr);
  const prefixLength = Number(bits);
  if (ip === undefined || extra !== undefined || !/^\d{1,2}$/.test(bits ?? "") || prefixLength > 30) {
    throw new Error(`invalid IPv4 CIDR "${text}": expected a.b.c.d/n with n at most 30, e.g. 10.88.0.0/16`);
  }
  const size = 2 ** (32 - prefixLength);
  const network = ip - (ip % size);
  return { text: `${formatIPv4(network)}/${prefixLength}`, network, prefixLength, size };
}

export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.network && ip < cidr.network + cidr.size;
}

/** The first usable address: the bridge gateway for pods, the `kubernetes` Service for services. */
export function firstHost(cidr: Cidr): number {
  return cidr.network + 1;
}

export function lastHost(cidr: Cidr): number {
  return cidr.network + cidr.size - 2;
}
