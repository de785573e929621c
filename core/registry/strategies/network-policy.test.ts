import { describe, expect, test } from "bun:test";
import type { NetworkPolicy } from "kubernetes-types/networking/v1";
import { printerFor } from "../../api/printers/index.ts";
import type { KubeObject } from "../../object.ts";
import { errorOf, useRegistry } from "../testing/test-fixture.ts";

const fx = useRegistry();
const R = "networkpolicies.networking.k8s.io";
type NP = NetworkPolicy & KubeObject;

const policy = (name: string, spec: Record<string, unknown>) =>
  ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: "default" },
    spec,
  }) as unknown as KubeObject;

const causesOf = async (spec: Record<string, unknown>) => {
  const err = await errorOf(fx.registry.create(R, policy("bad", spec)));
  expect(err.code).toBe(422);
  return (err.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
};

describe("NetworkPolicy strategy", () => {
  test("defaults: Ingress only without egress rules, TCP for ports, an empty podSelector", async () => {
    const np = (await fx.registry.create(R, policy("deny", {}))) as NP;
    expect(np.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    expect(np.metadata.generation).toBe(1);
  });

  test("defaults: Egress joins when egress rules are given; explicit policyTypes are kept", async () => {
    const np = (await fx.registry.create(
      R,
      policy("both", { podSelector: { matchLabels: { app: "web" } }, egress: [{ ports: [{ port: 53 }] }] }),
    )) as NP;
    expect(np.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec?.egress?.[0]?.ports?.[0]).toEqual({ port: 53, protocol: "TCP" });
    const eg = (await fx.registry.create(
      R,
      policy("eg", { podSelector: {}, policyTypes: ["Egress"] }),
    )) as NP;
    expect(eg.spec?.policyTypes).toEqual(["Egress"]);
  });

  test("ports: protocol, range, named ports and endPort as kube-apiserver words them", async () => {
    expect(
      await causesOf({
        ingress: [
          {
            ports: [
              { protocol: "ICMP", port: 1 },
              { port: 0 },
              { port: 90, endPort: 80 },
              { port: "http", endPort: 90 },
              { endPort: 90 },
              { port: "Not_A_Name" },
            ],
          },
        ],
      }),
    ).toEqual([
      'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
      "spec.ingress[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
      "spec.ingress[0].ports[2].endPort: Invalid value: 90: must be greater than or equal to `port`",
      "spec.ingress[0].ports[3].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
      "spec.ingress[0].ports[4].endPort: Invalid value: 90: may not be specified when `port` is not specified",
      'spec.ingress[0].ports[5].port: Invalid value: "Not_A_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]);
  });

  test("peers: one needed, ipBlock alone, CIDRs valid and except strictly inside", async () => {
    expect(
      await causesOf({
        egress: [
          {
            to: [
              {},
              { ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} },
              { ipBlock: { cidr: "10.0.0.0/33" } },
              { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "11.0.0.0/16", "10.0.0.0/8", "x"] } },
              { podSelector: { matchExpressions: [{ key: "app", operator: "In" }] } },
            ],
          },
        ],
      }),
    ).toEqual([
      "spec.egress[0].to[0]: Required value: must specify a peer",
      "spec.egress[0].to[1]: Forbidden: may not specify both ipBlock and another peer",
      'spec.egress[0].to[2].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      'spec.egress[0].to[3].ipBlock.except[1]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'spec.egress[0].to[3].ipBlock.except[2]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
      'spec.egress[0].to[3].ipBlock.except[3]: Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      "spec.egress[0].to[4].podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
  });

  test("IPv6 ipBlocks validate too; policyTypes are Ingress and Egress only", async () => {
    await fx.registry.create(
      R,
      policy("v6", {
        ingress: [{ from: [{ ipBlock: { cidr: "2001:db8::/64", except: ["2001:db8::/80"] } }] }],
      }),
    );
    expect(await causesOf({ policyTypes: ["Ingress", "Sideways"] })).toEqual([
      'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ]);
  });

  test("kubectl's columns: NAME, POD-SELECTOR (<none> for every pod), AGE", async () => {
    const p = printerFor(R);
    expect(p.columns.map((c) => c.name)).toEqual(["Name", "Pod-Selector", "Age"]);
    const np = await fx.registry.create(
      R,
      policy("web", { podSelector: { matchLabels: { app: "web" } }, ingress: [{}] }),
    );
    const now = Date.parse(np.metadata.creationTimestamp!) + 90_000;
    expect(p.cells(np, now)).toEqual(["web", "app=web", "90s"]);
    const all = await fx.registry.get(R, "default", "deny").catch(() => undefined);
    const deny = all ?? (await fx.registry.create(R, policy("deny", {})));
    expect(p.cells(deny, now)[1]).toBe("<none>");
  });
});
