import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../object.ts";
import { printerFor } from "./index.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const created = new Date(NOW - 90_000).toISOString();

const ing = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
  ({ metadata: { name: "web", creationTimestamp: created }, spec, status }) as unknown as KubeObject;
const rule = (host?: string) => ({ host });

describe("Ingress table", () => {
  const printer = printerFor("ingresses.networking.k8s.io");
  test("columns as kubectl 1.32 prints them", () => {
    expect(printer.columns.map((c) => c.name)).toEqual(["Name", "Class", "Hosts", "Address", "Ports", "Age"]);
  });
  test("class, hosts, address and ports", () => {
    const row = printer.cells(
      ing(
        { ingressClassName: "minik", rules: [rule("a.test"), rule("b.test")], tls: [{ hosts: ["a.test"] }] },
        { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } },
      ),
      NOW,
    );
    expect(row).toEqual(["web", "minik", "a.test,b.test", "127.0.0.1", "80, 443", "90s"]);
  });
  test("no class, no host, no address; more than three hosts are counted", () => {
    expect(printer.cells(ing({ rules: [rule()] }), NOW)).toEqual(["web", "<none>", "*", "", "80", "90s"]);
    const many = printer.cells(ing({ rules: ["a", "b", "c", "d", "e"].map((h) => rule(`${h}.test`)) }), NOW);
    expect(many[2]).toBe("a.test,b.test,c.test + 2 more...");
  });
});

describe("IngressClass table", () => {
  test("controller and parameters", () => {
    const printer = printerFor("ingressclasses.networking.k8s.io");
    expect(printer.columns.map((c) => c.name)).toEqual(["Name", "Controller", "Parameters", "Age"]);
    const cls = {
      metadata: { name: "minik", creationTimestamp: created },
      spec: { controller: "minik.dev/ingress" },
    } as unknown as KubeObject;
    expect(printer.cells(cls, NOW)).toEqual(["minik", "minik.dev/ingress", "<none>", "90s"]);
  });
});
