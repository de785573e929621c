import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { host, skipUnless } from "../../test/support/env.ts";
import { createDnsResolver, decodeResponse, encodeQuery } from "./dns-resolver.ts";
import { createForwarder, type DnsServer, hostUpstreams, startDnsServer } from "./dns-server.ts";
import { run } from "./exec.ts";
import { createIpam } from "./ipam.ts";
import { createPodNetwork, type PodNetwork, type PodNetworkStatus } from "./pod-network.ts";
import { nslookup } from "./testing/test-hosts.ts";

const BRIDGE = "minikt1";

describe.skipIf(skipUnless(host.canUseNetns, "cluster DNS server", "needs root and ip"))(
  "cluster DNS server",
  () => {
    let net: PodNetwork;
    let pod: PodNetworkStatus;
    let dns: DnsServer;
    let upstream: { port: number; close(): void };
    const upstreamQueries: string[] = [];

    beforeAll(async () => {
      await run(["ip", "link", "del", BRIDGE]);
      await run(["ip", "netns", "del", "miniktd-client"]);
      net = createPodNetwork({
        ipam: await createIpam({ cidr: "10.252.0.0/24" }),
        bridge: BRIDGE,
        serviceCidr: "10.253.0.0/24",
        netnsPrefix: "miniktd-",
        vethPrefix: "vmd",
      });
      pod = await net.setup("client");
      // A stand-in for the host's resolver, on loopback: answers every name with 127.0.0.42.
      upstream = await Bun.udpSocket({
        hostname: "127.0.0.1",
        socket: {
          data(s, data, port, from) {
            const q = new Uint8Array(data);
            upstreamQueries.push(String(q[12]));
            const r = new Uint8Array(q.length + 16);
            r.set(q);
            r[2] = 0x81;
            r[3] = 0x80;
            r[7] = 1;
            r.set([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 127, 0, 0, 42], q.length);
            s.send(r, port, from);
          },
        },
      });
      const resolver = createDnsResolver({
        lookupService: (ns, name) =>
          ns === "default" && name === "web" ? { ips: ["10.253.0.20"] } : undefined,
        forward: createForwarder([`127.0.0.1:${upstream.port}`]),
      });
      dns = await startDnsServer({ address: net.gateway, resolver });
    });

    afterAll(async () => {
      dns?.stop();
      upstream?.close();
      await net?.cleanupAll();
    });

    const lookup = (name: string) => nslookup(pod.netnsPath, net.gateway, name);

    test("a pod resolves a Service name through the server on the bridge gateway", async () => {
      expect(dns.port).toBe(53);
      const out = await lookup("web.default.svc.cluster.local");
      expect(out).toContain("10.253.0.20");
    });

    test("short names: each search-path expansion is NXDOMAIN until the right one answers", async () => {
      // What a resolver does with `search default.svc.cluster.local svc.cluster.local cluster.local`
      // and ndots:5: try each expansion; every wrong one must be a quick NXDOMAIN.
      const answers: string[] = [];
      for (const name of ["web", "web.default", "web.default.svc"]) {
        for (const suffix of ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]) {
          const r = await queryOverUdp(pod.netnsPath, `${name}.${suffix}`);
          if (r.rcode === 0 && r.addresses.length) {
            answers.push(`${name}:${r.addresses[0]}`);
            break;
          }
          expect(r.rcode).toBe(3);
        }
      }
      expect(answers).toEqual(["web:10.253.0.20", "web.default:10.253.0.20", "web.default.svc:10.253.0.20"]);
    });

    test("an unknown cluster name is NXDOMAIN", async () => {
      const out = await lookup("nope.default.svc.cluster.local");
      expect(out).toContain("NXDOMAIN");
      const r = await queryOverUdp(pod.netnsPath, "nope.default.svc.cluster.local");
      expect(r.rcode).toBe(3);
    });

    test("outside names go to the upstream; TCP answers too", async () => {
      const r = await queryOverUdp(pod.netnsPath, "outside.example");
      expect(r.addresses).toEqual(["127.0.0.42"]);
      expect(upstreamQueries.length).toBeGreaterThan(0);
      const tcp = await queryOverTcp(net.gateway, "web.default.svc.cluster.local");
      expect(tcp.addresses).toEqual(["10.253.0.20"]);
    });

    test("hostUpstreams reads resolv.conf and skips minik's own address", () => {
      const dir = mkdtempSync(join(tmpdir(), "resolv-"));
      const path = join(dir, "resolv.conf");
      writeFileSync(path, `# comment\nnameserver ${net.gateway}\nnameserver 10.1.2.3\nnameserver ::1\n`);
      expect(hostUpstreams(net.gateway, path)).toEqual(["10.1.2.3:53"]);
      expect(hostUpstreams(net.gateway, `${path}.missing`)).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    });

    test("cleanupAll removes the bridge, the pod namespace and veth", async () => {
      dns.stop();
      await net.cleanupAll();
      expect((await run(["ip", "-o", "link"])).stdout).not.toContain(BRIDGE);
      expect((await run(["ip", "netns", "list"])).stdout).not.toContain("miniktd-");
    });
  },
);

/** One UDP query from inside the pod's network namespace (a tiny Bun client run under nsenter). */
async function queryOverUdp(netnsPath: string, name: string) {
  const gateway = "10.252.0.1";
  const script = `
    const q = new Uint8Array(${JSON.stringify([...encodeQuery(99, name)])});
    const s = await Bun.udpSocket({ socket: { data(_s, d) { process.stdout.write(Buffer.from(d).toString("hex")); process.exit(0); } } });
    s.send(q, 53, ${JSON.stringify(gateway)});
    setTimeout(() => process.exit(1), 3000);`;
  const proc = Bun.spawn(["nsenter", `--net=${netnsPath}`, process.execPath, "-e", script], {
    stdout: "pipe",
  });
  const hex = await new Response(proc.stdout).text();
  await proc.exited;
  return decodeResponse(Uint8Array.from(Buffer.from(hex, "hex")));
}

async function queryOverTcp(address: string, name: string) {
  const q = encodeQuery(5, name);
  const { promise, resolve } = Promise.withResolvers<Uint8Array>();
  let buf = new Uint8Array(0);
  const socket = await Bun.connect({
    hostname: address,
    port: 53,
    socket: {
      data(_s, chunk) {
        const joined = new Uint8Array(buf.length + chunk.length);
        joined.set(buf);
        joined.set(chunk, buf.length);
        buf = joined;
        if (buf.length >= 2 && buf.length >= 2 + ((buf[0]! << 8) | buf[1]!)) resolve(buf.slice(2));
      },
    },
  });
  socket.write(Uint8Array.from([q.length >> 8, q.length & 255, ...q]));
  const msg = await promise;
  socket.end();
  return decodeResponse(msg);
}
