import { describe, expect, test } from "bun:test";
import type { Secret, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Ingress } from "kubernetes-types/networking/v1";
import { createSelfSignedCertificate } from "../api/tls-certificate.ts";
import { createIngressRouter } from "./ingress-router.ts";
import { ingressTable } from "./ingress-routes.ts";

function service(name: string, ports: { name?: string; port: number }[] = [{ port: 80 }]): Service {
  return { metadata: { namespace: "default", name }, spec: { clusterIP: "10.96.0.9", ports } };
}

function slice(
  svc: string,
  ips: { ip: string; ready?: boolean }[],
  port = 8080,
  portName = "",
): EndpointSlice {
  return {
    metadata: { namespace: "default", name: `${svc}-x`, labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    endpoints: ips.map(({ ip, ready = true }) => ({ addresses: [ip], conditions: { ready } })),
    ports: [{ name: portName, port, protocol: "TCP" }],
  };
}

function ingress(name: string, spec: Ingress["spec"], created = "2026-01-01T00:00:00Z"): Ingress {
  return { metadata: { namespace: "default", name, creationTimestamp: created }, spec };
}

const backend = (name: string, number = 80) => ({ service: { name, port: { number } } });

const rule = (host: string | undefined, path: string, svc: string, pathType = "Prefix") => ({
  host,
  http: { paths: [{ path, pathType, backend: backend(svc) }] },
});

function world(ingresses: Ingress[], extra: { secrets?: Secret[] } = {}) {
  return ingressTable({
    ingresses,
    services: [service("one"), service("two"), service("empty")],
    endpointSlices: [
      slice("one", [{ ip: "10.88.0.11" }, { ip: "10.88.0.12" }, { ip: "10.88.0.13", ready: false }]),
      slice("two", [{ ip: "10.88.0.21" }]),
      slice("empty", [{ ip: "10.88.0.31", ready: false }]),
    ],
    endpoints: [],
    secrets: extra.secrets ?? [],
  });
}

/** A forward that answers with the URL it was asked for and keeps what it saw. */
function recorder() {
  const seen: { url: string; init: RequestInit }[] = [];
  const forward = async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(init.body ?? `from ${url}`, {
      status: 200,
      headers: { "x-pod": url, connection: "x" },
    });
  };
  return { seen, forward };
}

const info = { clientIp: "127.0.0.5", proto: "http" as const, port: 8080 };

describe("ingress router", () => {
  test("routes two hosts to two Services, round-robin over ready endpoints only", async () => {
    const { table, problems } = world([
      ingress("web", { rules: [rule("one.test", "/", "one"), rule("two.test", "/", "two")] }),
    ]);
    expect(problems).toEqual([]);
    const { seen, forward } = recorder();
    const router = createIngressRouter(forward);
    router.setTable(table);
    const ask = (host: string, path = "/") =>
      router.handle(new Request(`http://127.0.0.1:8080${path}`, { headers: { host } }), info);
    for (let i = 0; i < 4; i++) expect((await ask("one.test", "/a?b=1")).status).toBe(200);
    expect((await ask("two.test:8080")).status).toBe(200);
    expect(seen.map((s) => s.url)).toEqual([
      "http://10.88.0.11:8080/a?b=1",
      "http://10.88.0.12:8080/a?b=1",
      "http://10.88.0.11:8080/a?b=1",
      "http://10.88.0.12:8080/a?b=1",
      "http://10.88.0.21:8080/",
    ]);
  });

  test("adds X-Forwarded-* headers, keeps Host, drops hop-by-hop headers both ways", async () => {
    const { table } = world([ingress("web", { rules: [rule("one.test", "/", "one")] })]);
    const { seen, forward } = recorder();
    const router = createIngressRouter(forward);
    router.setTable(table);
    const res = await router.handle(
      new Request("http://127.0.0.1:8080/", {
        headers: {
          host: "one.test:8080",
          "x-forwarded-for": "10.0.0.1",
          connection: "keep-alive",
          "keep-alive": "5",
        },
      }),
      { ...info, proto: "https", port: 8443 },
    );
    const h = new Headers(seen[0]!.init.headers);
    expect(h.get("host")).toBe("one.test:8080");
    expect(h.get("x-forwarded-for")).toBe("10.0.0.1, 127.0.0.5");
    expect(h.get("x-real-ip")).toBe("127.0.0.5");
    expect(h.get("x-forwarded-proto")).toBe("https");
    expect(h.get("x-forwarded-host")).toBe("one.test:8080");
    expect(h.get("x-forwarded-port")).toBe("8443");
    expect(h.get("keep-alive")).toBeNull();
    expect(res.headers.get("connection")).toBeNull();
    expect(res.headers.get("x-pod")).toBe("http://10.88.0.11:8080/");
  });

  test("streams a request body through to the pod and its answer back", async () => {
    const { table } = world([ingress("web", { rules: [rule(undefined, "/upload", "one")] })]);
    const { forward } = recorder();
    const router = createIngressRouter(forward);
    router.setTable(table);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("part1-"));
        c.enqueue(new TextEncoder().encode("part2"));
        c.close();
      },
    });
    const req = new Request("http://127.0.0.1:8080/upload", {
      method: "POST",
      body,
      headers: { host: "x" },
      duplex: "half",
    } as RequestInit);
    const res = await router.handle(req, info);
    expect(await res.text()).toBe("part1-part2");
  });

  test("404 without a matching rule or default backend; the default backend catches the rest", async () => {
    const { forward, seen } = recorder();
    const router = createIngressRouter(forward);
    router.setTable(world([ingress("web", { rules: [rule("one.test", "/app", "one")] })]).table);
    const miss = await router.handle(new Request("http://h/other", { headers: { host: "one.test" } }), info);
    expect(miss.status).toBe(404);
    expect(await miss.text()).toBe("default backend - 404\n");
    router.setTable(
      world([
        ingress("web", { rules: [rule("one.test", "/app", "one")] }),
        ingress("fallback", { defaultBackend: backend("two") }, "2026-01-02T00:00:00Z"),
      ]).table,
    );
    expect(
      (await router.handle(new Request("http://h/other", { headers: { host: "x" } }), info)).status,
    ).toBe(200);
    expect(seen.at(-1)!.url).toBe("http://10.88.0.21:8080/other");
  });

  test("503 naming the cause: no ready endpoint, a missing Service, a missing port", async () => {
    const { table, problems } = world([
      ingress("web", {
        rules: [
          rule("empty.test", "/", "empty"),
          rule("gone.test", "/", "gone"),
          {
            host: "port.test",
            http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("one", 81) }] },
          },
        ],
      }),
    ]);
    expect(problems.map((p) => p.reason)).toEqual(["ServiceNotFound", "ServicePortNotFound"]);
    expect(problems[0]!.message).toContain('service "default/gone" not found');
    const router = createIngressRouter(recorder().forward);
    router.setTable(table);
    const ask = (host: string) => router.handle(new Request("http://h/", { headers: { host } }), info);
    const empty = await ask("empty.test");
    expect(empty.status).toBe(503);
    expect(await empty.text()).toContain("no ready endpoints for default/empty:80");
    const gone = await ask("gone.test");
    expect(gone.status).toBe(503);
    expect(await gone.text()).toContain('service "default/gone" not found');
    expect((await ask("port.test")).status).toBe(503);
  });

  test("a refused connection: a GET tries the next endpoint, then 502", async () => {
    const { table } = world([ingress("web", { rules: [rule(undefined, "/", "one")] })]);
    const tried: string[] = [];
    const router = createIngressRouter(async (url) => {
      tried.push(url);
      if (url.includes("10.88.0.11")) throw new Error("connection refused");
      return new Response("ok");
    });
    router.setTable(table);
    expect((await router.handle(new Request("http://h/", { headers: { host: "x" } }), info)).status).toBe(
      200,
    );
    expect(tried).toEqual(["http://10.88.0.11:8080/", "http://10.88.0.12:8080/"]);
    const down = createIngressRouter(async () => {
      throw new Error("connection refused");
    });
    down.setTable(table);
    const res = await down.handle(new Request("http://h/", { headers: { host: "x" } }), info);
    expect(res.status).toBe(502);
  });

  test("of two Ingresses claiming the same host and path the older wins", async () => {
    const { table } = world([
      ingress("newer", { rules: [rule("a.test", "/", "two")] }, "2026-01-02T00:00:00Z"),
      ingress("older", { rules: [rule("a.test", "/", "one")] }, "2026-01-01T00:00:00Z"),
    ]);
    const { seen, forward } = recorder();
    const router = createIngressRouter(forward);
    router.setTable(table);
    await router.handle(new Request("http://h/", { headers: { host: "a.test" } }), info);
    expect(seen[0]!.url).toContain("10.88.0.1");
  });
});

describe("ingress TLS certificates", () => {
  const secret = (name: string, cert: string, key: string): Secret => ({
    metadata: { namespace: "default", name },
    type: "kubernetes.io/tls",
    data: { "tls.crt": btoa(cert), "tls.key": btoa(key) },
  });

  test("each TLS host gets the Secret's pair; a missing or unusable Secret is a problem", async () => {
    const one = await createSelfSignedCertificate({ dnsNames: ["one.test"] });
    const other = await createSelfSignedCertificate({ dnsNames: ["other.test"] });
    const { table, problems } = world(
      [
        ingress("web", {
          rules: [rule("one.test", "/", "one")],
          tls: [
            { hosts: ["one.test", "*.one.test"], secretName: "one-tls" },
            { hosts: ["two.test"], secretName: "missing" },
            { hosts: ["three.test"], secretName: "mismatched" },
            { hosts: ["four.test"], secretName: "garbage" },
          ],
        }),
      ],
      {
        secrets: [
          secret("one-tls", one.cert, one.key),
          secret("mismatched", one.cert, other.key),
          secret("garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", one.key),
        ],
      },
    );
    expect(table.certificates.map((c) => c.serverName)).toEqual(["one.test", "*.one.test"]);
    expect(table.certificates[0]!.cert).toBe(one.cert);
    expect(problems.map((p) => [p.reason, p.message.split(" (")[0]])).toEqual([
      [
        "SecretNotFound",
        'secret "default/missing" not found: its hosts are served with the default certificate until it exists',
      ],
      ["InvalidSecret", 'secret "default/mismatched": tls.key does not belong to tls.crt'],
      ["InvalidSecret", 'secret "default/garbage": tls.crt is not a PEM certificate'],
    ]);
  });
});
