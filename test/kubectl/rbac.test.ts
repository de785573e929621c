import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBootstrapPolicy } from "../../core/auth/bootstrap-policy.ts";
import { skipUnless, waitFor } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

/**
 * The real kubectl against RBAC and Lease kinds: typed `create role|rolebinding|clusterrole`
 * (protobuf bodies), tables, a Helm-style RBAC manifest with an aggregated ClusterRole,
 * `auth can-i` with impersonation, and escalation refused with kube-apiserver's words.
 */
let c: Cluster;

describe.skipIf(skipUnless(hasKubectl, "kubectl rbac", "needs /usr/bin/kubectl"))("kubectl and RBAC", () => {
  beforeAll(async () => {
    c = await startCluster();
    await ensureBootstrapPolicy(c.client);
    await c.kubectl(["create", "namespace", "team"]);
    await c.kubectl(["create", "serviceaccount", "robot", "-n", "team"]);
  });
  afterAll(async () => {
    await c?.stop();
  });

  test("default roles and bindings are listed; bindings show their role", async () => {
    const roles = await c.kubectl(["get", "clusterroles"]);
    expect(roles.stdout).toMatch(/^NAME\s+CREATED AT$/m);
    for (const name of ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user"])
      expect(roles.stdout).toMatch(new RegExp(`^${name}\\s`, "m"));
    const bindings = await c.kubectl(["get", "clusterrolebinding", "cluster-admin", "-o", "wide"]);
    expect(bindings.stdout).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/m);
    expect(bindings.stdout).toMatch(
      /^cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*$/m,
    );
  });

  test("typed creates (protobuf) and auth can-i with impersonation", async () => {
    const role = await c.kubectl([
      "create",
      "role",
      "pod-reader",
      "--verb=get,list",
      "--resource=pods",
      "-n",
      "team",
    ]);
    expect(role.stdout).toBe("role.rbac.authorization.k8s.io/pod-reader created\n");
    const binding = await c.kubectl([
      "create",
      "rolebinding",
      "robot-reads",
      "--role=pod-reader",
      "--serviceaccount=team:robot",
      "-n",
      "team",
    ]);
    expect(binding.stdout).toBe("rolebinding.rbac.authorization.k8s.io/robot-reads created\n");
    const as = "--as=system:serviceaccount:team:robot";
    expect((await c.kubectl(["auth", "can-i", "list", "pods", "-n", "team", as])).stdout).toBe("yes\n");
    expect((await c.kubectl(["auth", "can-i", "delete", "pods", "-n", "team", as])).stdout).toBe("no\n");
    expect((await c.kubectl(["auth", "can-i", "list", "pods", "-n", "default", as])).stdout).toBe("no\n");
    const list = await c.kubectl(["auth", "can-i", "--list", "-n", "team", as]);
    expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    const forbidden = await c.kubectl(["get", "secrets", "-n", "team", as]);
    expect(forbidden.stderr).toBe(
      'Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:team:robot" cannot list resource "secrets" in API group "" in the namespace "team"\n',
    );
    const described = await c.kubectl(["describe", "rolebinding", "robot-reads", "-n", "team"]);
    expect(described.stdout).toMatch(/Role:\n\s+Kind:\s+Role\n\s+Name:\s+pod-reader/);
    expect(described.stdout).toMatch(/ServiceAccount\s+robot\s+team/);
  });

  test("a Helm-style RBAC manifest applies; its aggregated ClusterRole collects the labelled rules", async () => {
    const file = c.write(
      "rbac.yaml",
      `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
- apiGroups: [""]
  resources: [services, endpoints, pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitoring}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
- {kind: ServiceAccount, name: robot, namespace: team}
`,
    );
    const applied = await c.kubectl(["apply", "-f", file]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toContain("clusterrolebinding.rbac.authorization.k8s.io/monitoring created");
    await waitFor(
      async () =>
        (
          await c.kubectl(["get", "clusterrole", "monitoring", "-o", "jsonpath={.rules[0].resources}"])
        ).stdout.includes("endpoints"),
      { what: "the aggregated rules" },
    );
    const can = await c.kubectl([
      "auth",
      "can-i",
      "watch",
      "endpoints",
      "-A",
      "--as=system:serviceaccount:team:robot",
    ]);
    expect(can.stdout).toBe("yes\n");
  });

  test("escalation is refused with kube-apiserver's words; a binding's roleRef cannot change", async () => {
    await c.kubectl([
      "create",
      "rolebinding",
      "robot-admin",
      "--clusterrole=admin",
      "--serviceaccount=team:robot",
      "-n",
      "team",
    ]);
    const as = "--as=system:serviceaccount:team:robot";
    const ok = await c.kubectl([
      "create",
      "role",
      "readers",
      "--verb=get",
      "--resource=pods",
      "-n",
      "team",
      as,
    ]);
    expect(ok.stdout).toBe("role.rbac.authorization.k8s.io/readers created\n");
    const refused = await c.kubectl([
      "create",
      "role",
      "nodes",
      "--verb=get",
      "--resource=nodes",
      "-n",
      "team",
      as,
    ]);
    expect(refused.stderr).toContain(
      'Error from server (Forbidden): roles.rbac.authorization.k8s.io "nodes" is forbidden: user "system:serviceaccount:team:robot"',
    );
    expect(refused.stderr).toContain('{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
    const bindAdmin = await c.kubectl([
      "create",
      "rolebinding",
      "x",
      "--clusterrole=cluster-admin",
      "--serviceaccount=team:robot",
      "-n",
      "team",
      as,
    ]);
    expect(bindAdmin.stderr).toContain("is attempting to grant RBAC permissions not currently held");
    const patched = await c.kubectl([
      "patch",
      "rolebinding",
      "robot-reads",
      "-n",
      "team",
      "--type=merge",
      "-p",
      '{"roleRef":{"name":"readers"}}',
    ]);
    expect(patched.stderr).toContain("roleRef: Forbidden: cannot change roleRef");
  });

  test("Leases: table, explain and optimistic concurrency through kubectl", async () => {
    const file = c.write(
      "lease.yaml",
      `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: team}
spec: {holderIdentity: a, leaseDurationSeconds: 15}
`,
    );
    expect((await c.kubectl(["create", "-f", file])).stdout).toBe(
      "lease.coordination.k8s.io/leader created\n",
    );
    expect((await c.kubectl(["get", "leases", "-n", "team"])).stdout).toMatch(
      /^NAME\s+HOLDER\s+AGE\nleader\s+a\s+\S+\n$/,
    );
    expect((await c.kubectl(["explain", "lease.spec.holderIdentity"])).stdout).toContain("holderIdentity");
    const rv = (
      await c.kubectl(["get", "lease", "leader", "-n", "team", "-o", "jsonpath={.metadata.resourceVersion}"])
    ).stdout;
    const take = (holder: string) =>
      c.kubectl(["replace", "-f", "-"], {
        stdin: `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"leader","namespace":"team","resourceVersion":"${rv}"},"spec":{"holderIdentity":"${holder}"}}`,
      });
    expect((await take("b")).code).toBe(0);
    const second = await take("c");
    expect(second.stderr).toContain(
      "the object has been modified; please apply your changes to the latest version",
    );
  });
});
