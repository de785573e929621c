import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { host, skipUnless, waitFor } from "../support/env.ts";
import { testImages, testImagesMissing, testRegistriesYaml } from "../support/registry.ts";
import { BINARY, type Daemon, freePort, removeDir, startExclusive } from "./daemon.ts";

/**
 * Issue 13's Ingress through the compiled binary on real containers: two Deployments behind two
 * Services, one Ingress with two hosts reached with curl `--resolve` against 127.0.0.1, HTTPS
 * with a self-signed Secret chosen by SNI, the published address, 404/503 answers and the
 * warning for a missing Service, and no failed request while a backend rolls.
 */

const skip =
  !existsSync(BINARY) ||
  skipUnless(host.canRunContainers, "e2e ingress", "needs root and crun") ||
  skipUnless(!!testImages, "e2e ingress", testImagesMissing) ||
  skipUnless(
    Bun.which("curl") !== null && Bun.which("openssl") !== null,
    "e2e ingress",
    "needs curl and openssl",
  );

const image = (name: string) => `${testImages!.registries.plain.host}/minik-test/${name}`;

/** CGI scripts for two's pod: its hostname, and the request headers it was given (as HTTP_* variables). */
const CGI = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cgi
data:
  host: |
    #!/bin/sh
    echo "Content-Type: text/plain"
    echo ""
    echo "host=$(hostname)"
  env: |
    #!/bin/sh
    echo "Content-Type: text/plain"
    echo ""
    env | grep -E '^(HTTP_X_|HTTP_HOST|REMOTE_ADDR)' | sort
`;

const APP = (name: string, tag: string, cgi = false) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: ${image(`httpd:${tag}`)}
        ports:
        - {name: http, containerPort: 80}
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 1${
            cgi
              ? `
        volumeMounts:
        - {name: cgi, mountPath: /www/cgi-bin}
      volumes:
      - name: cgi
        configMap: {name: cgi, defaultMode: 0755}`
              : ""
          }
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: {app: ${name}}
  ports:
  - {name: web, port: 8080, targetPort: http}
`;

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
      - {path: /, pathType: Prefix, backend: {service: {name: one, port: {number: 8080}}}}
  - host: two.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: two, port: {name: web}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ghost
spec:
  rules:
  - host: ghost.test
    http:
      paths:
      - {path: /, pathType: Exact, backend: {service: {name: ghost, port: {number: 80}}}}
`;

/** A self-signed certificate for one.test, made with openssl, as a kubernetes.io/tls Secret. */
function tlsSecret(dir: string): string {
  const r = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=one.test",
    "-addext",
    "subjectAltName=DNS:one.test",
    "-keyout",
    join(dir, "one.key"),
    "-out",
    join(dir, "one.crt"),
  ]);
  if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr}`);
  const b64 = (f: string) => readFileSync(join(dir, f)).toString("base64");
  return `apiVersion: v1
kind: Secret
metadata:
  name: one-tls
type: kubernetes.io/tls
data:
  tls.crt: ${b64("one.crt")}
  tls.key: ${b64("one.key")}
`;
}

/** curl with the host resolved to the ingress listener; status and body. */
function curl(
  url: string,
  port: number,
  extra: string[] = [],
): { status: number; body: string; stderr: string } {
  const hostname = new URL(url).hostname;
  const r = Bun.spawnSync([
    "curl",
    "-sS",
    "--max-time",
    "5",
    "--resolve",
    `${hostname}:${port}:127.0.0.1`,
    "-w",
    "\n%{http_code}",
    ...extra,
    url,
  ]);
  const out = r.stdout.toString();
  const i = out.lastIndexOf("\n");
  return { status: Number(out.slice(i + 1)), body: out.slice(0, i).trim(), stderr: r.stderr.toString() };
}

describe.skipIf(skip)("compiled binary: Ingress with the built-in controller", () => {
  let d: Daemon | undefined;
  let dataDir: string;
  let httpPort = 0;
  let httpsPort = 0;
  const minik = (args: string[]) => d!.minik(args);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "minik-e2e-ingress-"));
    writeFileSync(join(dataDir, "registries.yaml"), testRegistriesYaml());
    httpPort = await freePort();
    httpsPort = await freePort();
    d = await startExclusive(dataDir, [
      "--ingress-http",
      `127.0.0.1:${httpPort}`,
      "--ingress-https",
      `127.0.0.1:${httpsPort}`,
    ]);
    await d.apply("apps", `${CGI}---\n${APP("one", "1")}---\n${APP("two", "2", true)}`);
    await d.apply("secret", tlsSecret(dataDir));
    await d.apply("ingress", INGRESS);
    await waitFor(
      async () => {
        const pods = (await d!.getJson(["pods"])).items as any[];
        return (
          pods.length === 2 &&
          pods.every((p) => p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"))
        );
      },
      { timeoutMs: 90_000, intervalMs: 250, what: "the pods of one and two to be ready" },
    );
  }, 240_000);

  afterAll(async () => {
    if (d) {
      await minik(["delete", "ingress", "web", "ghost", "--ignore-not-found"]).catch(() => {});
      await minik(["delete", "deployment", "one", "two", "--ignore-not-found"]).catch(() => {});
      await minik(["delete", "service", "one", "two", "--ignore-not-found"]).catch(() => {});
      await waitFor(async () => ((await d!.getJson(["pods"])).items as any[]).length === 0, {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: "the pods to be gone",
      }).catch(() => {});
      await d.stop();
    }
    if (dataDir && existsSync(dataDir)) {
      Bun.spawnSync([BINARY, "reset", "--data-dir", dataDir, "--all"]);
      removeDir(dataDir);
    }
  }, 120_000);

  test("two hosts reach two Services; the Ingress got the default class and the listen address", async () => {
    const one = await waitFor(() => curl(`http://one.test:${httpPort}/`, httpPort).body.includes("v1"), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: "one.test answering through the ingress",
    });
    expect(one).toBe(true);
    expect(curl(`http://one.test:${httpPort}/index.html`, httpPort).body).toBe("minik-test/httpd v1");
    const two = await waitFor(() => curl(`http://two.test:${httpPort}/`, httpPort), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: "two.test answering",
    });
    expect(two.status).toBe(200);
    expect(two.body).toBe("minik-test/httpd v2");
    // the pod answers the CGI with its own hostname: the request really went to two's pod
    expect(curl(`http://two.test:${httpPort}/cgi-bin/host`, httpPort).body).toMatch(/^host=two-/);

    const ing = await waitFor(
      async () => {
        const o = await d!.getJson(["ingress", "web"]);
        return o.status?.loadBalancer?.ingress?.length ? o : undefined;
      },
      { what: "status.loadBalancer.ingress of web" },
    );
    expect(ing.spec.ingressClassName).toBe("minik");
    expect(ing.status.loadBalancer.ingress).toEqual([{ ip: "127.0.0.1" }]);
    const cls = await d!.getJson(["ingressclass", "minik"]);
    expect(cls.metadata.annotations["ingressclass.kubernetes.io/is-default-class"]).toBe("true");
  }, 60_000);

  test("the pod sees X-Forwarded-For/-Proto/-Host/-Port and the client's Host", async () => {
    const r = curl(`http://two.test:${httpPort}/cgi-bin/env`, httpPort, [
      "-H",
      "X-Forwarded-For: 203.0.113.7",
    ]);
    expect(r.status).toBe(200);
    const env = Object.fromEntries(
      r.body.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(env.HTTP_HOST).toBe(`two.test:${httpPort}`);
    expect(env.HTTP_X_FORWARDED_FOR).toBe("203.0.113.7, 127.0.0.1");
    expect(env.HTTP_X_FORWARDED_PROTO).toBe("http");
    expect(env.HTTP_X_FORWARDED_HOST).toBe(`two.test:${httpPort}`);
    expect(env.HTTP_X_FORWARDED_PORT).toBe(String(httpPort));
    expect(env.HTTP_X_REAL_IP).toBe("127.0.0.1");
  }, 30_000);

  test("HTTPS: one.test gets its Secret's certificate by SNI (curl verifies it), others the default one", async () => {
    const tls = await waitFor(
      () => {
        const r = curl(`https://one.test:${httpsPort}/`, httpsPort, ["--cacert", join(dataDir, "one.crt")]);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: "one.test over HTTPS with its own certificate" },
    );
    expect(tls.body).toBe("minik-test/httpd v1");
    const other = curl(`https://two.test:${httpsPort}/`, httpsPort, ["--cacert", join(dataDir, "one.crt")]);
    expect(other.status).toBe(0); // not one.test's certificate: curl refuses it
    const insecure = curl(`https://two.test:${httpsPort}/`, httpsPort, ["-k"]);
    expect(insecure.status).toBe(200);
    expect(insecure.body).toBe("minik-test/httpd v2");
  }, 60_000);

  test("no rule: 404; a missing Service: 503 and a Warning event naming it", async () => {
    const none = curl(`http://nobody.test:${httpPort}/`, httpPort);
    expect(none.status).toBe(404);
    expect(none.body).toBe("default backend - 404");
    const ghost = curl(`http://ghost.test:${httpPort}/`, httpPort);
    expect(ghost.status).toBe(503);
    expect(ghost.body).toContain('service "default/ghost" not found');
    const event = await waitFor(
      async () =>
        ((await d!.getJson(["events"])).items as any[]).find(
          (e) => e.involvedObject.name === "ghost" && e.reason === "ServiceNotFound",
        ),
      { what: "the ServiceNotFound event of ingress ghost" },
    );
    expect(event.type).toBe("Warning");
    expect(event.message).toContain('service "default/ghost" not found');
  }, 30_000);

  test("minik get ingress prints kubectl's columns", async () => {
    const r = await minik(["get", "ingress"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]!.split(/\s+/)).toEqual(["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]);
    const web = lines.find((l) => l.startsWith("web "))!.split(/\s{2,}/);
    expect(web.slice(0, 5)).toEqual(["web", "minik", "one.test,two.test", "127.0.0.1", "80, 443"]);
  }, 30_000);

  test("a rolling update of the backend drops no request through the ingress", async () => {
    let stop = false;
    const failures: string[] = [];
    let ok = 0;
    const bodies = new Set<string>();
    const loop = (async () => {
      while (!stop) {
        const r = await fetch(`http://127.0.0.1:${httpPort}/`, {
          headers: { host: "one.test" },
          signal: AbortSignal.timeout(5000),
        }).catch((e) => e as Error);
        if (r instanceof Error) failures.push(r.message);
        else if (r.status !== 200) failures.push(`${r.status} ${await r.text()}`);
        else {
          ok++;
          bodies.add((await r.text()).trim());
        }
      }
    })();
    const set = await minik(["set", "image", "deployment/one", `httpd=${image("httpd:2")}`]);
    expect(set.code).toBe(0);
    await waitFor(() => bodies.has("minik-test/httpd v2") && ok > 20, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: "the new version answering through the ingress",
    });
    await waitFor(async () => ((await d!.getJson(["pods", "-l", "app=one"])).items as any[]).length === 1, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: "the old pod of one to be gone",
    });
    stop = true;
    await loop;
    expect(failures).toEqual([]);
  }, 180_000);
});
