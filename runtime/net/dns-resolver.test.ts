import { describe, expect, test } from "bun:test";
import { createDnsResolver, decodeResponse, encodeQuery, type ServiceRecord } from "./dns-resolver.ts";

const records: Record<string, ServiceRecord> = {
  "default/web": { ips: ["10.96.0.20"], ports: [{ name: "http", port: 80, protocol: "TCP" }] },
  "other/db": { ips: ["10.88.0.7", "10.88.0.8"], hosts: { "db-0": ["10.88.0.7"], "db-1": ["10.88.0.8"] } },
  "default/ext": { ips: [], externalName: "example.org" },
};
const lookupService = (ns: string, name: string) => records[`${ns}/${name}`];

describe("dns resolver", () => {
  const resolver = createDnsResolver({ lookupService });
  const ask = async (name: string, type = 1) =>
    decodeResponse((await resolver.resolve(encodeQuery(4242, name, type)))!);

  test("A records for Services (case-insensitive), headless Services answer their endpoints", async () => {
    expect(await ask("web.default.svc.cluster.local")).toMatchObject({
      id: 4242,
      rcode: 0,
      authoritative: true,
      addresses: ["10.96.0.20"],
    });
    expect((await ask("WEB.Default.svc.cluster.local")).addresses).toEqual(["10.96.0.20"]);
    expect((await ask("db.other.svc.cluster.local")).addresses).toEqual(["10.88.0.7", "10.88.0.8"]);
  });

  test("a headless Service's named endpoints (StatefulSet pods) answer <pod>.<svc>.<ns>.svc", async () => {
    expect((await ask("db-1.db.other.svc.cluster.local")).addresses).toEqual(["10.88.0.8"]);
    expect((await ask("db-2.db.other.svc.cluster.local")).rcode).toBe(3);
    expect((await ask("db-0.web.default.svc.cluster.local")).rcode).toBe(3);
  });

  test("unknown cluster names are NXDOMAIN (so the search path moves on), AAAA of a known name is NODATA", async () => {
    expect((await ask("web.default.default.svc.cluster.local")).rcode).toBe(3);
    expect((await ask("nope.default.svc.cluster.local")).rcode).toBe(3);
    expect((await ask("web.cluster.local")).rcode).toBe(3);
    const aaaa = await ask("web.default.svc.cluster.local", 28);
    expect(aaaa).toMatchObject({ rcode: 0, answers: 0 });
  });

  test("ExternalName answers a CNAME; pod names answer their address", async () => {
    expect(await ask("ext.default.svc.cluster.local")).toMatchObject({ rcode: 0, answers: 1, addresses: [] });
    expect((await ask("10-88-0-9.default.pod.cluster.local")).addresses).toEqual(["10.88.0.9"]);
  });

  test("outside names: REFUSED without an upstream, forwarded verbatim with one", async () => {
    expect((await ask("example.org")).rcode).toBe(5);
    const forwarded: Uint8Array[] = [];
    const withUpstream = createDnsResolver({
      lookupService,
      forward: async (q) => {
        forwarded.push(q);
        const r = q.slice();
        r[2] = 0x81;
        r[3] = 0x83;
        return r;
      },
    });
    const answer = decodeResponse((await withUpstream.resolve(encodeQuery(7, "example.org")))!);
    expect(forwarded).toHaveLength(1);
    expect(answer).toMatchObject({ id: 7, rcode: 3 });
  });

  test("reverse lookups: cluster addresses answered locally, others forwarded", async () => {
    const forwarded: string[] = [];
    const withReverse = createDnsResolver({
      lookupService,
      lookupAddress: (ip) =>
        ip === "10.96.0.20"
          ? { name: "web.default.svc.cluster.local" }
          : ip.startsWith("10.")
            ? {}
            : undefined,
      forward: async (q) => {
        forwarded.push("x");
        const r = q.slice();
        r[2] = 0x81;
        r[3] = 0x83;
        return r;
      },
    });
    const ptr = (await withReverse.resolve(encodeQuery(3, "20.0.96.10.in-addr.arpa", 12)))!;
    expect(decodeResponse(ptr)).toMatchObject({ rcode: 0, authoritative: true, answers: 1 });
    expect(new TextDecoder().decode(ptr)).toContain("web");
    expect(
      decodeResponse((await withReverse.resolve(encodeQuery(4, "99.0.96.10.in-addr.arpa", 12)))!),
    ).toMatchObject({ rcode: 3, authoritative: true });
    expect(forwarded).toHaveLength(0);
    await withReverse.resolve(encodeQuery(5, "1.1.168.192.in-addr.arpa", 12));
    expect(forwarded).toHaveLength(1);
  });

  test("SRV for a named port names the Service and the port; unknown ports are NXDOMAIN", async () => {
    const srv = (await resolver.resolve(encodeQuery(8, "_http._tcp.web.default.svc.cluster.local", 33)))!;
    expect(decodeResponse(srv)).toMatchObject({ rcode: 0, answers: 1 });
    // priority 0, weight 100, port 80, then the target name
    const rdata = srv.subarray(srv.length - (6 + "web.default.svc.cluster.local".length + 2));
    expect([...rdata.subarray(0, 6)]).toEqual([0, 0, 0, 100, 0, 80]);
    expect(new TextDecoder().decode(rdata.subarray(6))).toContain("default");
    expect((await ask("_grpc._tcp.web.default.svc.cluster.local", 33)).rcode).toBe(3);
    expect((await ask("_http._udp.web.default.svc.cluster.local", 33)).rcode).toBe(3);
  });

  test("garbage and responses are ignored, malformed questions get FORMERR", async () => {
    expect(await resolver.resolve(new Uint8Array([1, 2, 3]))).toBeUndefined();
    const response = encodeQuery(1, "web.default.svc.cluster.local");
    response[2] = response[2]! | 0x80;
    expect(await resolver.resolve(response)).toBeUndefined();
    const bad = encodeQuery(9, "web.default.svc.cluster.local").slice(0, 20);
    expect(decodeResponse((await resolver.resolve(bad))!).rcode).toBe(1);
  });
});
