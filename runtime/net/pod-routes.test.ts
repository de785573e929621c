import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { run, runOk } from "./exec.ts";
import { createKernelPodRoutes, POD_ROUTE_PROTOCOL } from "./pod-routes.ts";

const root = process.getuid?.() === 0 && (await run(["ip", "-V"]).catch(() => ({ code: 1 }))).code === 0;
const NS = `mk19-routes-${process.pid}`;

describe.skipIf(!root)("kernel pod routes (in a scratch network namespace; needs root and iproute2)", () => {
  beforeAll(async () => {
    await runOk(["ip", "netns", "add", NS]);
    await runOk(["ip", "-n", NS, "link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    await runOk(["ip", "-n", NS, "link", "set", "d1", "up"]);
    await runOk(["ip", "-n", NS, "addr", "add", "192.0.2.1/24", "dev", "d0"]);
    await runOk(["ip", "-n", NS, "link", "set", "d0", "up"]);
    // a route of someone else's, which sync must leave alone
    await runOk(["ip", "-n", NS, "route", "add", "198.51.100.0/24", "via", "192.0.2.9"]);
  });
  afterAll(async () => {
    await run(["ip", "netns", "del", NS]);
  });

  const table = async () =>
    (await runOk(["ip", "-n", NS, "route", "show"]))
      .trim()
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => !l.includes("proto kernel"))
      .sort();

  test("adds, changes and removes only its own routes", async () => {
    const routes = createKernelPodRoutes({ netns: NS, enableForwarding: false });
    await routes.sync([
      { node: "a", podCidr: "10.80.0.0/24", via: "192.0.2.10" },
      { node: "b", podCidr: "10.80.1.0/24", via: "192.0.2.11" },
    ]);
    expect(await table()).toEqual(
      [
        `10.80.0.0/24 via 192.0.2.10 dev d0 proto ${POD_ROUTE_PROTOCOL} `,
        `10.80.1.0/24 via 192.0.2.11 dev d0 proto ${POD_ROUTE_PROTOCOL} `,
        "198.51.100.0/24 via 192.0.2.9 dev d0 ",
      ]
        .map((l) => l.trim())
        .sort(),
    );
    await routes.sync([{ node: "b", podCidr: "10.80.1.0/24", via: "192.0.2.12" }]);
    expect(await table()).toEqual(
      [
        `10.80.1.0/24 via 192.0.2.12 dev d0 proto ${POD_ROUTE_PROTOCOL}`,
        "198.51.100.0/24 via 192.0.2.9 dev d0",
      ].sort(),
    );
    const unreachable = await routes
      .sync([{ node: "far", podCidr: "10.80.2.0/24", via: "203.0.113.1" }])
      .catch((e) => e);
    expect(String(unreachable)).toContain("routing node far's pods (10.80.2.0/24) via 203.0.113.1");
    await routes.cleanup();
    expect(await table()).toEqual(["198.51.100.0/24 via 192.0.2.9 dev d0"]);
  });
});
