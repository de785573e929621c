import { expect, test } from "bun:test";
import { podIpAllocator } from "./test-kit.ts";

test("the fake kubelet's pod IPs are distinct host addresses, past 250 pods too", () => {
  const next = podIpAllocator();
  const ips = Array.from({ length: 600 }, next);
  expect(new Set(ips).size).toBe(600);
  for (const ip of ips) {
    const last = Number(ip.split(".")[3]);
    expect(last).toBeGreaterThanOrEqual(1);
    expect(last).toBeLessThanOrEqual(254);
  }
  expect(ips[0]).toBe("10.88.0.1");
  expect(ips[254]).toBe("10.88.1.1");
  // a second kubelet (a second test cluster) starts its own range, like a fresh node
  expect(podIpAllocator()()).toBe("10.88.0.1");
});
