import { describe, expect, test } from "bun:test";
import type { Ingress } from "kubernetes-types/networking/v1";
import type { KubeObject } from "../object.ts";
import { errorOf, useRegistry } from "../registry/testing/test-fixture.ts";
import {
  DEFAULT_INGRESS_CLASS_ANNOTATION,
  defaultIngressClassAdmission,
  ensureIngressClass,
  INGRESS_CLASS,
  INGRESS_CONTROLLER,
} from "./ingress-class.ts";

const fx = useRegistry({ admit: [defaultIngressClassAdmission(() => fx.registry)] });
const ING = "ingresses.networking.k8s.io";
const CLS = "ingressclasses.networking.k8s.io";

function ingress(
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec,
  } as KubeObject;
}

const web = {
  rules: [
    {
      host: "web.test",
      http: {
        paths: [
          { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } },
        ],
      },
    },
  ],
};

describe("IngressClass minik", () => {
  test("is created at start, marked default, once", async () => {
    await ensureIngressClass(fx.registry);
    await ensureIngressClass(fx.registry);
    const cls = await fx.registry.get(CLS, "", INGRESS_CLASS);
    expect((cls as { spec?: { controller?: string } }).spec?.controller).toBe(INGRESS_CONTROLLER);
    expect(cls.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION]).toBe("true");
  });

  test("is not marked default when another class already is", async () => {
    await fx.registry.create(CLS, {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: "nginx", annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: "true" } },
      spec: { controller: "k8s.io/ingress-nginx" },
    } as KubeObject);
    await ensureIngressClass(fx.registry);
    expect((await fx.registry.get(CLS, "", INGRESS_CLASS)).metadata.annotations).toBeUndefined();
  });

  test("an Ingress without class gets the default one; a named class or the legacy annotation is kept", async () => {
    await ensureIngressClass(fx.registry);
    const plain = (await fx.registry.create(ING, ingress("a", web))) as unknown as Ingress;
    expect(plain.spec?.ingressClassName).toBe(INGRESS_CLASS);
    expect(plain.status).toEqual({ loadBalancer: {} });
    const named = (await fx.registry.create(
      ING,
      ingress("b", { ...web, ingressClassName: "other" }),
    )) as unknown as Ingress;
    expect(named.spec?.ingressClassName).toBe("other");
    const legacy = (await fx.registry.create(
      ING,
      ingress("c", web, { "kubernetes.io/ingress.class": "nginx" }),
    )) as unknown as Ingress;
    expect(legacy.spec?.ingressClassName).toBeUndefined();
  });

  test("parameters: scope defaults to Cluster; a Namespace scope needs a namespace", async () => {
    const cls = (name: string, parameters: Record<string, unknown>) =>
      ({
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name },
        spec: { controller: "acme.io/ingress", parameters },
      }) as KubeObject;
    const made = (await fx.registry.create(
      CLS,
      cls("p", { kind: "Params", name: "x", apiGroup: "acme.io" }),
    )) as {
      spec?: { parameters?: { scope?: string } };
    };
    expect(made.spec?.parameters?.scope).toBe("Cluster");
    const ns = await errorOf(
      fx.registry.create(CLS, cls("q", { kind: "Params", name: "x", scope: "Namespace" })),
    );
    expect(ns.message).toContain(
      "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
    );
    const bad = await errorOf(fx.registry.create(CLS, cls("r", { name: "x", scope: "Everywhere" })));
    expect(bad.message).toContain("spec.parameters.kind: Required value");
    expect(bad.message).toContain('spec.parameters.scope: Unsupported value: "Everywhere"');
  });

  test("controller is required and immutable", async () => {
    await ensureIngressClass(fx.registry);
    const cls = await fx.registry.get(CLS, "", INGRESS_CLASS);
    const err = await errorOf(
      fx.registry.update(CLS, { ...cls, spec: { controller: "acme.io/other" } } as KubeObject),
    );
    expect(err.message).toContain('spec.controller: Invalid value: "acme.io/other": field is immutable');
    const missing = await errorOf(
      fx.registry.create(CLS, {
        apiVersion: "networking.k8s.io/v1",
        kind: "IngressClass",
        metadata: { name: "x" },
        spec: {},
      } as KubeObject),
    );
    expect(missing.message).toContain("spec.controller: Required value");
  });
});

describe("Ingress validation (422 naming the field)", () => {
  const path = (p: Record<string, unknown>) => ({
    rules: [
      {
        host: "a.test",
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: "web", port: { number: 80 } } },
              ...p,
            },
          ],
        },
      },
    ],
  });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["no rules and no default backend", {}, "spec: Invalid value"],
    [
      "pathType missing",
      path({ pathType: undefined }),
      "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
    ],
    [
      "pathType unknown",
      path({ pathType: "Regex" }),
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex"',
    ],
    [
      "relative Prefix path",
      path({ path: "app" }),
      'spec.rules[0].http.paths[0].path: Invalid value: "app": must be an absolute path',
    ],
    ["'//' in an Exact path", path({ path: "/a//b", pathType: "Exact" }), "must not contain '//'"],
    [
      "service and resource backends",
      path({
        backend: { service: { name: "web", port: { number: 80 } }, resource: { kind: "Bucket", name: "b" } },
      }),
      'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends',
    ],
    [
      "port name and number",
      path({ backend: { service: { name: "web", port: { number: 80, name: "http" } } } }),
      "cannot set both port name & port number",
    ],
    ["no port", path({ backend: { service: { name: "web", port: {} } } }), "port name or number is required"],
    ["no backend at all", path({ backend: {} }), "resource or service backend is required"],
    [
      "an IP as host",
      {
        rules: [
          {
            host: "10.0.0.1",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    ],
    [
      "a bad TLS host",
      {
        defaultBackend: { service: { name: "web", port: { number: 80 } } },
        tls: [{ hosts: ["*.*.bad"], secretName: "s" }],
      },
      "spec.tls[0].hosts[0]: Invalid value",
    ],
  ];
  for (const [what, spec, message] of cases)
    test(what, async () => {
      const err = await errorOf(fx.registry.create(ING, ingress("bad", spec)));
      expect(err.code).toBe(422);
      expect(err.message).toContain(message);
      expect(await fx.registry.tryGet(ING, "default", "bad")).toBeUndefined();
    });

  test("a wildcard host, ImplementationSpecific without path and a default backend are valid", async () => {
    await fx.registry.create(
      ING,
      ingress("ok", {
        defaultBackend: { service: { name: "web", port: { name: "http" } } },
        rules: [
          {
            host: "*.apps.test",
            http: {
              paths: [
                {
                  pathType: "ImplementationSpecific",
                  backend: { service: { name: "web", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
        tls: [{ hosts: ["*.apps.test"], secretName: "apps-tls" }],
      }),
    );
  });
});
