import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skipUnless } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

/** NetworkPolicy through the real kubectl: apply, get's columns, describe, explain, and a 422. */
let c: Cluster;

const POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-client
spec:
  podSelector:
    matchExpressions:
    - {key: app, operator: In, values: [web, api]}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {app: client}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {port: 8000, endPort: 8080}
`;

describe.skipIf(skipUnless(hasKubectl, "kubectl network policy", "needs /usr/bin/kubectl"))(
  "kubectl and NetworkPolicy",
  () => {
    beforeAll(async () => {
      c = await startCluster();
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("apply, get (NAME POD-SELECTOR AGE), describe and api-resources", async () => {
      const applied = await c.kubectl(["apply", "-f", c.write("np.yaml", POLICY)]);
      expect(applied.stderr).toBe("");
      expect(applied.stdout).toBe("networkpolicy.networking.k8s.io/web-from-client created\n");
      const got = await c.kubectl(["get", "netpol"]);
      expect(got.stdout).toMatch(/^NAME\s+POD-SELECTOR\s+AGE$/m);
      expect(got.stdout).toMatch(/^web-from-client\s+app in \(api,web\)\s+\d+s$/m);
      const types = await c.kubectl([
        "get",
        "netpol",
        "web-from-client",
        "-o",
        "jsonpath={.spec.policyTypes}",
      ]);
      expect(types.stdout).toBe('["Ingress"]');
      const described = await c.kubectl(["describe", "netpol", "web-from-client"]);
      expect(described.stderr).toBe("");
      expect(described.stdout).toContain("PodSelector:     app in (api,web)");
      expect(described.stdout).toContain("To Port Range: 8000-8080/TCP");
      expect(described.stdout).toContain("CIDR: 10.0.0.0/8\n        Except: 10.1.0.0/16");
      const resources = await c.kubectl([
        "api-resources",
        "--no-headers",
        "--api-group",
        "networking.k8s.io",
      ]);
      const line = resources.stdout.split("\n").find((l) => l.startsWith("networkpolicies ")) ?? "";
      expect(line.split(/\s+/).slice(0, 5)).toEqual([
        "networkpolicies",
        "netpol",
        "networking.k8s.io/v1",
        "true",
        "NetworkPolicy",
      ]);
    });

    test("explain reads the schema; an invalid policy is refused with kubectl's field errors", async () => {
      const explained = await c.kubectl(["explain", "networkpolicy.spec.ingress.ports.endPort"]);
      expect(explained.stdout).toContain("endPort");
      const bad = POLICY.replace("web-from-client", "bad").replace("endPort: 8080", "endPort: 80");
      const r = await c.kubectl(["apply", "-f", c.write("bad.yaml", bad)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        'The NetworkPolicy "bad" is invalid: spec.ingress[0].ports[0].endPort: Invalid value: 8000: must be greater than or equal to `port`',
      );
    });
  },
);
