import { describe, expect, test } from "bun:test";
import { host } from "../../test/support/env.ts";
import { run } from "./exec.ts";
import { affinitySetName, portConflicts, type RulesetInput, renderRuleset } from "./nft-ruleset.ts";

const base: RulesetInput = {
  table: "minik_render_test",
  podCidr: "10.250.0.0/24",
  bridge: "minikt0",
  nodePortAddresses: ["127.0.0.1"],
  services: [
    {
      key: "default/web:http",
      clusterIP: "10.251.0.10",
      port: 80,
      protocol: "TCP",
      nodePort: 30080,
      endpoints: [
        { ip: "10.250.0.2", port: 8080 },
        { ip: "10.250.0.3", port: 8080 },
      ],
    },
    {
      key: "default/dns:dns",
      clusterIP: "10.251.0.11",
      port: 53,
      protocol: "UDP",
      endpoints: [{ ip: "10.250.0.4", port: 53 }],
    },
    { key: "default/empty:http", clusterIP: "10.251.0.12", port: 80, protocol: "TCP", endpoints: [] },
  ],
  hostPorts: [
    {
      podIp: "10.250.0.5",
      podName: "default/hp",
      mappings: [{ hostPort: 8081, containerPort: 80, protocol: "TCP" }],
    },
  ],
};

describe("nft ruleset", () => {
  test("replaces exactly one table atomically and holds services, nodePorts, hostPorts and the guard", () => {
    const text = renderRuleset(base);
    expect(
      text.startsWith(
        "table ip minik_render_test\ndelete table ip minik_render_test\ntable ip minik_render_test {",
      ),
    ).toBe(true);
    expect(text).toContain("10.251.0.10 . tcp . 80 : goto svc_");
    expect(text).toContain("tcp . 30080 : goto svc_");
    expect(text).toContain("numgen random mod 2 map { 0 : 10.250.0.2 . 8080, 1 : 10.250.0.3 . 8080 }");
    expect(text).toContain("meta l4proto udp dnat to 10.250.0.4:53");
    expect(text).toContain("elements = { 10.251.0.12 . tcp . 80 }");
    expect(text).toContain("fib daddr type local meta l4proto tcp th dport 8081 dnat to 10.250.0.5:80");
    expect(text).toContain('iifname != "lo" ip daddr 127.0.0.0/8 drop');
    expect(text).toContain(
      "ct status dnat ip saddr { 10.250.0.0/24, 127.0.0.0/8 } ip saddr != 10.250.0.1 masquerade",
    );
    expect(text).toContain('iifname "minikt0" oifname != "minikt0" drop');
    const nat = renderRuleset({ ...base, outboundNat: true });
    expect(nat).toContain('ip saddr 10.250.0.0/24 oifname != "minikt0" masquerade');
    expect(nat).not.toContain("drop\n  }\n  chain postrouting");
    expect(nat).not.toContain("chain isolate");
    // several nodes: other nodes' pods are reachable through the host, the rest stays isolated
    const cluster = renderRuleset({ ...base, clusterCidr: "10.240.0.0/12" });
    expect(cluster).toContain(
      'ct state established,related accept\n    iifname "minikt0" oifname != "minikt0" ip daddr != 10.240.0.0/12 drop',
    );
  });

  test("ClientIP affinity: one timeout set per endpoint, live entries carried over with their time left", () => {
    const sticky = { ...base, services: [{ ...base.services[0]!, affinityTimeoutSeconds: 300 }] };
    const set = affinitySetName("default/web:http", { ip: "10.250.0.2", port: 8080 });
    const text = renderRuleset({
      ...sticky,
      affinity: new Map([[set, [{ ip: "10.250.0.9", expires: 120 }]]]),
    });
    expect(text).toContain(
      `set ${set} { type ipv4_addr; flags dynamic,timeout; timeout 300s; elements = { 10.250.0.9 timeout 300s expires 120s }; }`,
    );
    expect(text).toContain(`ip saddr @${set} goto ep_`);
    expect(text).toContain("update @");
  });

  test("duplicate keys (which would fail the whole load) are kept once; IPv6 hostIPs mean every address", () => {
    const dup = { ...base.services[0]!, key: "default/dup:http" };
    const text = renderRuleset({
      ...base,
      services: [...base.services, dup],
      hostPorts: [
        {
          podIp: "10.250.0.5",
          podName: "p",
          mappings: [{ hostPort: 81, containerPort: 80, protocol: "UDP", hostIP: "::" }],
        },
      ],
    });
    expect(text.match(/10\.251\.0\.10 \. tcp \. 80 :/g)).toHaveLength(1);
    expect(text.match(/tcp \. 30080 :/g)).toHaveLength(1);
    expect(text).toContain("fib daddr type local meta l4proto udp th dport 81 dnat to 10.250.0.5:80");
  });

  test("two service ports hashing alike still get chains of their own", () => {
    const same = { ...base.services[0]!, clusterIP: "10.251.0.40" };
    const text = renderRuleset({ ...base, services: [base.services[0]!, same] });
    const chainNames = [...text.matchAll(/chain (svc_\S+) \{/g)].map((m) => m[1]);
    expect(chainNames).toHaveLength(2);
    expect(new Set(chainNames).size).toBe(2);
  });

  test("portConflicts names a NodePort shared with a hostPort and a key claimed twice", () => {
    const nodePortSvc = base.services[0]!;
    const warnings = portConflicts(
      [nodePortSvc, { ...nodePortSvc, key: "other/dup:http", nodePort: undefined }],
      [
        {
          podIp: "10.250.0.5",
          podName: "default/hp",
          mappings: [{ hostPort: 30080, containerPort: 80, protocol: "TCP" }],
        },
      ],
    );
    expect(warnings).toEqual([
      {
        key: "default/web:http",
        message:
          "nodePort 30080/TCP is also the hostPort of pod default/hp; the Service takes that port's traffic",
      },
      {
        key: "other/dup:http",
        message: "10.251.0.10:80/TCP is already served for default/web; this port gets no traffic",
      },
    ]);
    expect(portConflicts(base.services, base.hostPorts)).toEqual([]);
  });

  test.skipIf(!host.canUseNftables)("nft accepts the rendered text", async () => {
    const sticky = {
      ...base,
      services: [
        ...base.services,
        {
          ...base.services[0]!,
          key: "x/y:z",
          clusterIP: "10.251.0.20",
          nodePort: undefined,
          affinityTimeoutSeconds: 10,
        },
      ],
    };
    const checked = await run(["nft", "-c", "-f", "-"], renderRuleset({ ...sticky, outboundNat: true }));
    expect(checked.stderr).toBe("");
    expect(checked.code).toBe(0);
  });
});
