import { describe, expect, test } from "bun:test";
import type { Namespace, Pod } from "kubernetes-types/core/v1";
import type { NetworkPolicy, NetworkPolicySpec } from "kubernetes-types/networking/v1";
import type { PolicyProtocol } from "../seams/policy-enforcer.ts";
import { policyAllows } from "../seams/testing/fake-policy-enforcer.ts";
import { ipBlockRanges, mergeRanges, policyView } from "./policy-view.ts";

const pod = (
  name: string,
  ip: string,
  labels: Record<string, string>,
  namespace = "default",
  extra: Partial<Pod> = {},
): Pod => ({
  metadata: { name, namespace, labels },
  spec: { containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: 8080 }] }] },
  status: { podIP: ip, phase: "Running" },
  ...extra,
});
const ns = (name: string, labels: Record<string, string> = {}): Namespace => ({
  metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } },
});
const np = (name: string, spec: NetworkPolicySpec, namespace = "default"): NetworkPolicy => ({
  metadata: { name, namespace },
  spec,
});

const A = pod("a", "10.88.0.2", { app: "web" });
const B = pod("b", "10.88.0.3", { app: "client" });
const C = pod("c", "10.88.0.4", { app: "other" });
const D = pod("d", "10.88.0.5", { app: "client" }, "prod");
const pods = [A, B, C, D];
const namespaces = [ns("default"), ns("prod", { env: "prod" })];

function allowed(
  policies: NetworkPolicy[],
  from: Pod,
  to: Pod | string,
  port = 80,
  protocol: PolicyProtocol = "TCP",
) {
  const view = policyView({ policies, pods, namespaces });
  const toIp = typeof to === "string" ? to : to.status!.podIP!;
  return policyAllows(view, { from: from.status!.podIP!, to: toIp, port, protocol });
}

describe("policyView: which addresses each policy isolates and allows", () => {
  test("no policy: everything flows", () => {
    expect(policyView({ policies: [], pods, namespaces })).toEqual([]);
    expect(allowed([], B, A)).toBe(true);
  });

  test("default deny ingress (empty podSelector, no rules) isolates every pod of its namespace only", () => {
    const deny = np("deny", { podSelector: {}, policyTypes: ["Ingress"] });
    expect(policyView({ policies: [deny], pods, namespaces })).toEqual([
      { key: "default/deny", pods: ["10.88.0.2", "10.88.0.3", "10.88.0.4"], ingress: [] },
    ]);
    expect(allowed([deny], B, A)).toBe(false);
    expect(allowed([deny], A, D)).toBe(true);
  });

  test("an allow rule from podSelector reopens a→ for app=client only; policies add up", () => {
    const deny = np("deny", { podSelector: {}, policyTypes: ["Ingress"] });
    const allow = np("allow", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }] }],
    });
    const view = policyView({ policies: [deny, allow], pods, namespaces });
    expect(view[0]).toEqual({
      key: "default/allow",
      pods: ["10.88.0.2"],
      ingress: [{ peers: ["10.88.0.3"] }],
    });
    expect(allowed([deny, allow], B, A)).toBe(true);
    expect(allowed([deny, allow], C, A)).toBe(false);
    // The client in another namespace is not matched by a podSelector alone.
    expect(allowed([deny, allow], D, A)).toBe(false);
  });

  test("namespaceSelector alone, and together with podSelector", () => {
    const fromProd = np("p", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { env: "prod" } } }] }],
    });
    expect(allowed([fromProd], D, A)).toBe(true);
    expect(allowed([fromProd], B, A)).toBe(false);
    const both = np("q", {
      podSelector: {},
      ingress: [
        {
          from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "client" } } }],
        },
      ],
    });
    expect(allowed([both], D, A)).toBe(true);
    expect(allowed([both], B, A)).toBe(true);
    expect(allowed([both], C, A)).toBe(false);
  });

  test("ipBlock with except becomes merged ranges; ports with endPort and named ports per pod", () => {
    const egress = np("e", {
      podSelector: { matchLabels: { app: "client" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.88.0.0/24", except: ["10.88.0.4/32", "10.88.0.128/25"] } }],
          ports: [
            { protocol: "TCP", port: 80, endPort: 90 },
            { protocol: "TCP", port: "http" },
          ],
        },
      ],
    });
    const [view] = policyView({ policies: [egress], pods, namespaces });
    expect(view).toEqual({
      key: "default/e",
      pods: ["10.88.0.3"],
      egress: [
        {
          peers: ["10.88.0.0-10.88.0.3", "10.88.0.5-10.88.0.127"],
          ports: [{ protocol: "TCP", from: 80, to: 90 }],
          namedPorts: [
            { ip: "10.88.0.2", protocol: "TCP", port: 8080 },
            { ip: "10.88.0.3", protocol: "TCP", port: 8080 },
            { ip: "10.88.0.5", protocol: "TCP", port: 8080 },
          ],
        },
      ],
    });
    expect(allowed([egress], B, A, 85)).toBe(true);
    expect(allowed([egress], B, A, 8080)).toBe(true);
    expect(allowed([egress], B, A, 91)).toBe(false);
    expect(allowed([egress], B, C, 80)).toBe(false);
    expect(allowed([egress], B, "10.88.0.200", 80)).toBe(false);
    // Only the client is isolated for egress.
    expect(allowed([egress], A, C, 9999)).toBe(true);
  });

  test("rules that can match nothing are left out; egress without rules denies all; Egress defaulted from rules", () => {
    const none = np("n", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: "ghost" } } }] },
        { ports: [{ port: "nope" }] },
      ],
    });
    expect(policyView({ policies: [none], pods, namespaces })[0]!.ingress).toEqual([]);
    const egressDeny = np("x", { podSelector: {}, policyTypes: ["Egress"] });
    expect(allowed([egressDeny], A, B)).toBe(false);
    expect(allowed([egressDeny], D, A)).toBe(true);
    const dns = np("dns", { podSelector: {}, egress: [{ ports: [{ protocol: "UDP", port: 53 }] }] });
    expect(policyView({ policies: [dns], pods, namespaces })[0]).toMatchObject({ ingress: [], egress: [{}] });
    expect(allowed([egressDeny, dns], A, "10.88.0.1", 53, "UDP")).toBe(true);
    expect(allowed([egressDeny, dns], A, "10.88.0.1", 53, "TCP")).toBe(false);
  });

  test("finished and address-less pods are never selected", () => {
    const done = pod("done", "10.88.0.9", { app: "web" }, "default", {
      status: { podIP: "10.88.0.9", phase: "Succeeded" },
    });
    const pending = pod("p", "", { app: "web" }, "default", { status: { phase: "Pending" } });
    const view = policyView({
      policies: [np("w", { podSelector: { matchLabels: { app: "web" } } })],
      pods: [A, done, pending],
      namespaces,
    });
    expect(view[0]!.pods).toEqual(["10.88.0.2"]);
  });
});

describe("address ranges", () => {
  test("CIDR minus except, merged with neighbours and overlaps", () => {
    expect(ipBlockRanges("10.0.0.0/30", ["10.0.0.1/32"])).toEqual([
      { from: 167772160, to: 167772160 },
      { from: 167772162, to: 167772163 },
    ]);
    expect(ipBlockRanges("0.0.0.0/0", [])).toEqual([{ from: 0, to: 4294967295 }]);
    expect(ipBlockRanges("2001:db8::/64", [])).toEqual([]);
    expect(
      mergeRanges([
        { from: 5, to: 9 },
        { from: 1, to: 3 },
        { from: 4, to: 4 },
        { from: 7, to: 12 },
      ]),
    ).toEqual([{ from: 1, to: 12 }]);
  });
});
