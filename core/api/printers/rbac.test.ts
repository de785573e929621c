import { expect, test } from "bun:test";
import type { KubeObject } from "../../object.ts";
import { printerFor } from "./index.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");

test("bindings print Kind/name of the role and, wide, their subjects by kind; leases their holder", () => {
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "view", creationTimestamp: new Date(NOW - 120_000).toISOString() },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
    subjects: [
      { kind: "ServiceAccount", name: "default", namespace: "team" },
      { kind: "User", name: "jane" },
      { kind: "Group", name: "devs" },
    ],
  } as unknown as KubeObject;
  const printer = printerFor("rolebindings.rbac.authorization.k8s.io");
  expect(printer.columns.map((c) => c.name)).toEqual([
    "Name",
    "Role",
    "Age",
    "Users",
    "Groups",
    "ServiceAccounts",
  ]);
  expect(printer.cells(binding, NOW)).toEqual([
    "view",
    "ClusterRole/view",
    "2m",
    "jane",
    "devs",
    "team/default",
  ]);
  expect(printerFor("clusterrolebindings.rbac.authorization.k8s.io")).toBe(printer);
  const lease = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "n1" },
    spec: { holderIdentity: "n1" },
  };
  expect(
    printerFor("leases.coordination.k8s.io")
      .cells(lease as KubeObject, NOW)
      .slice(0, 2),
  ).toEqual(["n1", "n1"]);
});
