import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureIngressClass } from "../../core/network/ingress-class.ts";
import type { KubeObject } from "../../core/object.ts";
import { skipUnless } from "../support/env.ts";
import { type Cluster, hasKubectl, startCluster } from "./harness.ts";

/** Ingress and IngressClass through the real kubectl: apply, columns, default class, field errors. */
let c: Cluster;

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  tls:
  - hosts: [one.test]
    secretName: one-tls
  rules:
  - host: one.test
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: one, port: {number: 80}}
  - host: two.test
    http:
      paths:
      - path: /api
        pathType: Exact
        backend:
          service: {name: two, port: {name: http}}
`;

const NO_PATH_TYPE = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
spec:
  rules:
  - host: one.test
    http:
      paths:
      - path: /
        backend:
          service: {name: one, port: {number: 80}}
`;

describe.skipIf(skipUnless(hasKubectl, "kubectl ingress", "needs /usr/bin/kubectl"))(
  "kubectl and Ingress",
  () => {
    beforeAll(async () => {
      c = await startCluster({ controllers: false });
      await ensureIngressClass(c.client);
    });
    afterAll(async () => {
      await c?.stop();
    });

    test("api-resources lists ingresses and ingressclasses", async () => {
      const r = await c.kubectl(["api-resources", "--api-group=networking.k8s.io", "--no-headers"]);
      const rows = r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/));
      expect(rows).toContainEqual(["ingressclasses", "networking.k8s.io/v1", "false", "IngressClass"]);
      expect(rows).toContainEqual(["ingresses", "ing", "networking.k8s.io/v1", "true", "Ingress"]);
    });

    test("apply creates the Ingress with the default class; get prints NAME CLASS HOSTS ADDRESS PORTS AGE", async () => {
      const applied = await c.kubectl(["apply", "-f", "-"], { stdin: INGRESS });
      expect(applied.stderr).toBe("");
      expect(applied.stdout).toBe("ingress.networking.k8s.io/web created\n");
      const got = await c.kubectl(["get", "ingress"]);
      const [head, row] = got.stdout.trim().split("\n");
      expect(head!.split(/\s+/)).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
      expect(row).toMatch(/^web\s+minik\s+one\.test,two\.test\s+80, 443\s+\d+s$/);

      // what the controller writes back shows as ADDRESS
      const ing = await c.client.get("ingresses.networking.k8s.io", "default", "web");
      await c.client.updateStatus("ingresses.networking.k8s.io", {
        ...ing,
        status: { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } },
      } as KubeObject);
      const after = await c.kubectl(["get", "ing", "web", "--no-headers"]);
      expect(after.stdout).toMatch(/^web\s+minik\s+one\.test,two\.test\s+127\.0\.0\.1\s+80, 443\s+\d+s$/m);
    });

    test("get ingressclass shows minik as the controller's class", async () => {
      const r = await c.kubectl(["get", "ingressclass"]);
      const [head, row] = r.stdout.trim().split("\n");
      expect(head!.split(/\s+/)).toEqual(["NAME", "CONTROLLER", "PARAMETERS", "AGE"]);
      expect(row).toMatch(/^minik\s+minik\.dev\/ingress\s+<none>\s+\d+s$/);
    });

    test("a path without pathType is refused with the field named, and nothing is stored", async () => {
      const r = await c.kubectl(["apply", "-f", "-"], { stdin: NO_PATH_TYPE });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('The Ingress "broken" is invalid');
      expect(r.stderr).toContain(
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
      );
      const get = await c.kubectl(["get", "ingress", "broken"]);
      expect(get.stderr).toContain('ingresses.networking.k8s.io "broken" not found');
    });

    test("kubectl create ingress (as the README shows it) makes a Prefix rule and a TLS entry", async () => {
      const r = await c.kubectl([
        "create",
        "ingress",
        "made",
        "--rule=web.example/*=web:80,tls=web-tls",
        "--default-backend=web:80",
      ]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("ingress.networking.k8s.io/made created\n");
      const o = JSON.parse((await c.kubectl(["get", "ingress", "made", "-o", "json"])).stdout);
      expect(o.spec.ingressClassName).toBe("minik");
      expect(o.spec.rules[0].http.paths[0]).toEqual({
        path: "/",
        pathType: "Prefix",
        backend: { service: { name: "web", port: { number: 80 } } },
      });
      expect(o.spec.tls).toEqual([{ hosts: ["web.example"], secretName: "web-tls" }]);
      expect(o.spec.defaultBackend).toEqual({ service: { name: "web", port: { number: 80 } } });
    });

    test("kubectl describe ingress shows its rules and backends", async () => {
      const r = await c.kubectl(["describe", "ingress", "web"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^Ingress Class:\s+minik$/m);
      expect(r.stdout).toMatch(/^\s+one\.test\s*$/m);
      expect(r.stdout).toMatch(/^\s+\/\s+one:80 \(/m);
      expect(r.stdout).toMatch(/^\s+\/api\s+two:http \(/m);
    });

    test("kubectl explain reads the Ingress schema", async () => {
      const r = await c.kubectl(["explain", "ingress.spec.rules.http.paths.pathType"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("FIELD: pathType <string>");
    });
  },
);
