import { afterEach, beforeEach, expect, test } from "bun:test";
import { waitFor } from "../../test/support/env.ts";
import { createSelfSignedCertificate } from "../api/tls-certificate.ts";
import type { Controller } from "../controllers/controller.ts";
import { createInformers, type Informers } from "../controllers/informer.ts";
import { createEventRecorder } from "../events.ts";
import { systemClock } from "../loop/clock.ts";
import type { KubeObject } from "../object.ts";
import { createRegistry, type Registry } from "../registry/registry.ts";
import type { IngressCertificate, IngressListeners } from "../seams/ingress-listener.ts";
import { createSqlStore } from "../store/sql-store.ts";
import type { Store } from "../store/store.ts";
import { defaultIngressClassAdmission, ensureIngressClass } from "./ingress-class.ts";
import { createIngressController } from "./ingress-controller.ts";
import { createIngressRouter, type IngressRouter } from "./ingress-router.ts";
import { createServiceAllocator } from "./service-allocator.ts";

let store: Store;
let registry: Registry;
let informers: Informers;
let controller: Controller;
let router: IngressRouter;
let certs: IngressCertificate[][];
const ING = "ingresses.networking.k8s.io";
const info = { clientIp: "127.0.0.9", proto: "http" as const, port: 80 };

// Records what the listeners are given; the real ones are exercised by test/e2e/ingress.test.ts.
const listeners: IngressListeners = {
  address: "127.0.0.1",
  async setCertificates(c) {
    certs.push(c);
  },
  async stop() {},
};

beforeEach(async () => {
  store = await createSqlStore({ url: ":memory:", compactIntervalMs: 0 });
  const allocator = createServiceAllocator();
  registry = createRegistry(store, {
    admit: [allocator.admit, defaultIngressClassAdmission(() => registry)],
    onDeleted: [allocator.onDeleted],
  });
  await registry.bootstrap();
  await ensureIngressClass(registry);
  certs = [];
  informers = createInformers(registry);
  router = createIngressRouter(async (url) => new Response(url));
  const ctx = {
    client: registry,
    informers,
    events: (c: string) => createEventRecorder(registry, c),
    clock: systemClock,
    log: () => {},
  };
  controller = createIngressController(ctx, router, listeners);
  await informers.start();
  controller.start();
});

afterEach(async () => {
  await controller.stop();
  informers.stop();
  await store.close();
});

const ingress = (name: string, spec: Record<string, unknown>) =>
  ({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name }, spec }) as KubeObject;
const rule = (host: string, service: string) => ({
  host,
  http: {
    paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { number: 80 } } } }],
  },
});
const ask = (host: string) => router.handle(new Request("http://x/", { headers: { host } }), info);

test("serves an Ingress: status gets the listen address, endpoints arrive, a missing Service is a Warning event", async () => {
  await registry.create(
    ING,
    ingress("web", { rules: [rule("web.test", "web"), rule("ghost.test", "ghost")] }),
  );
  const withStatus = await waitFor(
    async () => {
      const o = (await registry.get(ING, "default", "web")) as {
        status?: { loadBalancer?: { ingress?: unknown[] } };
      };
      return o.status?.loadBalancer?.ingress?.length ? o : undefined;
    },
    { what: "status.loadBalancer of web" },
  );
  expect(withStatus.status!.loadBalancer!.ingress).toEqual([{ ip: "127.0.0.1" }]);
  expect((await ask("web.test")).status).toBe(503);

  await registry.create("services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
  } as KubeObject);
  await registry.create("endpointslices.discovery.k8s.io", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-a", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.88.0.7"], conditions: { ready: true } }],
    ports: [{ name: "", port: 8080, protocol: "TCP" }],
  } as KubeObject);
  const routed = await waitFor(
    async () => {
      const r = await ask("web.test");
      return r.status === 200 ? r.text() : undefined;
    },
    { what: "web.test routed to its endpoint" },
  );
  expect(routed).toBe("http://10.88.0.7:8080/");

  const event = await waitFor(
    async () =>
      (await registry.list("events", { namespace: "default" })).items.find(
        (e) =>
          (e as { reason?: string }).reason === "ServiceNotFound" &&
          (e as { message?: string }).message?.includes("default/ghost"),
      ),
    { what: "the ServiceNotFound event" },
  );
  expect((event as { message?: string }).message).toContain('service "default/ghost" not found');
  expect((event as { involvedObject?: { name?: string } }).involvedObject?.name).toBe("web");
});

test("an Ingress of another class is left alone", async () => {
  await registry.create(ING, ingress("other", { ingressClassName: "nginx", rules: [rule("o.test", "web")] }));
  await registry.create(ING, ingress("mine", { rules: [rule("m.test", "web")] }));
  await waitFor(
    async () => {
      const o = (await registry.get(ING, "default", "mine")) as {
        status?: { loadBalancer?: { ingress?: unknown[] } };
      };
      return o.status?.loadBalancer?.ingress?.length;
    },
    { what: "mine served" },
  );
  const other = (await registry.get(ING, "default", "other")) as { status?: { loadBalancer?: unknown } };
  expect(other.status?.loadBalancer).toEqual({});
  expect((await ask("o.test")).status).toBe(404);
});

test("an Ingress moved to another class loses the address this controller wrote", async () => {
  await registry.create(ING, ingress("moving", { rules: [rule("m.test", "web")] }));
  const lbOf = async () =>
    (
      (await registry.get(ING, "default", "moving")) as {
        status?: { loadBalancer?: { ingress?: unknown[] } };
      }
    ).status?.loadBalancer;
  await waitFor(async () => (await lbOf())?.ingress?.length, { what: "moving served" });
  const current = await registry.get(ING, "default", "moving");
  await registry.update(ING, {
    ...current,
    spec: { ...(current as { spec?: object }).spec, ingressClassName: "nginx" },
  } as KubeObject);
  await waitFor(async () => (await lbOf())?.ingress === undefined, { what: "the address removed" });
  expect((await ask("m.test")).status).toBe(404);
});

test("TLS certificates from a kubernetes.io/tls Secret reach the listeners", async () => {
  const pair = await createSelfSignedCertificate({ dnsNames: ["web.test"] });
  await registry.create("secrets", {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "web-tls" },
    type: "kubernetes.io/tls",
    data: { "tls.crt": btoa(pair.cert), "tls.key": btoa(pair.key) },
  } as KubeObject);
  await registry.create(
    ING,
    ingress("web", {
      rules: [rule("web.test", "web")],
      tls: [{ hosts: ["web.test"], secretName: "web-tls" }],
    }),
  );
  const got = await waitFor(() => certs.find((c) => c.length === 1), { what: "the certificate of web.test" });
  expect(got[0]!.serverName).toBe("web.test");
  expect(got[0]!.cert).toContain("BEGIN CERTIFICATE");
});
