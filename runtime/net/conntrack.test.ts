import { describe, expect, test } from "bun:test";
import type { ProxyServicePort } from "../../core/seams/service-proxy.ts";
import { staleUdpFlows } from "./conntrack.ts";

const port = (
  protocol: "TCP" | "UDP",
  ips: string[],
  extra: Partial<ProxyServicePort> = {},
): ProxyServicePort => ({
  key: `default/s:${protocol}`,
  clusterIP: "10.96.0.20",
  port: 53,
  protocol,
  endpoints: ips.map((ip) => ({ ip, port: 5353 })),
  ...extra,
});

describe("stale UDP flows", () => {
  test("a removed UDP endpoint's flows are deleted by ClusterIP and by NodePort", () => {
    expect(
      staleUdpFlows(
        [port("UDP", ["10.88.0.2", "10.88.0.3"], { nodePort: 30053 })],
        [port("UDP", ["10.88.0.3"], { nodePort: 30053 })],
      ),
    ).toEqual([
      { origDst: "10.96.0.20", dstNat: "10.88.0.2" },
      { origPortDst: 30053, dstNat: "10.88.0.2" },
    ]);
  });

  test("a UDP Service getting its first endpoint drops flows that were never NATed; TCP is left alone", () => {
    expect(staleUdpFlows([port("UDP", [])], [port("UDP", ["10.88.0.2"])])).toEqual([
      { origDst: "10.96.0.20", origPortDst: 53 },
    ]);
    expect(staleUdpFlows([port("TCP", ["10.88.0.2"])], [port("TCP", [])])).toEqual([]);
    expect(staleUdpFlows([port("UDP", ["10.88.0.2"])], [])).toEqual([
      { origDst: "10.96.0.20", dstNat: "10.88.0.2" },
    ]);
    expect(staleUdpFlows([port("UDP", ["10.88.0.2"])], [port("UDP", ["10.88.0.2"])])).toEqual([]);
  });
});
